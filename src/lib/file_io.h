#ifndef FLOWREPO_FILE_IO_H_
#define FLOWREPO_FILE_IO_H_

// Reading a whole file: the one reader of every part of the library that
// reads files given by the user or written beside the repository.

#include <filesystem>
#include <optional>
#include <string>

namespace flowrepo {

/// The bytes of file \a path; none when it cannot be opened or read.
std::optional<std::string> TryReadFile(const std::filesystem::path& path);

/// The bytes of file \a path. Throws kIo ("cannot read 'PATH'").
std::string ReadWholeFile(const std::filesystem::path& path);

}  // namespace flowrepo

#endif  // FLOWREPO_FILE_IO_H_
