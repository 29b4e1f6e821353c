#ifndef FLOWREPO_OWNED_H_
#define FLOWREPO_OWNED_H_

// The deleter of every C library handle flowrepo owns: a unique_ptr whose
// deleter calls the library's own free function, such as
// std::unique_ptr<git_tree, Free<git_tree_free>>.

namespace flowrepo {

template <auto F>
struct Free {
  template <class T>
  void operator()(T* p) const {
    F(p);
  }
};

}  // namespace flowrepo

#endif  // FLOWREPO_OWNED_H_
