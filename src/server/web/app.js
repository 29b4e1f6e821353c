// flowrepo web page: one page over the HTTP API of `flowrepo serve`
// (docs/server.md, "Web page"). Plain ES2020, no build step, nothing loaded
// from another host. Every value from the API enters the page as text
// (textContent, attribute values), never as markup. Hash routes:
//   #/ws/WS                the group tree, selection and export
//   #/ws/WS/flow/ID        one flow: versions, history, diff, revert,
//                          publish, copy
//   #/ws/WS/import         upload, dry run, topics, mode, bind, publish
'use strict';

const state = {
  user: null,       // the session's user
  csrf: null,       // the session's CSRF token, sent as X-CSRF-Token
  workspaces: [],   // [{name, commit, flows}]
  ws: null,         // the workspace shown
  access: null,     // {role, export_role, topics} in ws
  selection: null,  // the tree's checks in ws (see Selection)
};

const RANK = {viewer: 0, integrator: 1, admin: 2};

const $ = (id) => document.getElementById(id);
const enc = encodeURIComponent;

// An element with attributes (values set as text) and children (strings
// become text nodes; null and false are skipped; arrays are flattened).
function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key === 'class') e.className = value;
    else if (key.startsWith('on')) e.addEventListener(key.slice(2), value);
    else if (value === true) e.setAttribute(key, '');
    else e.setAttribute(key, String(value));
  }
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    e.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return e;
}

// Replaces the children of \a node; null, undefined and false are skipped
// (replaceChildren would show them as text).
function fill(node, ...children) {
  node.replaceChildren(...children.flat(Infinity).filter((c) => c !== null && c !== undefined && c !== false));
}

// ---------------------------------------------------------------- API

class ApiError extends Error {
  constructor(message, status, body) {
    super(message);
    this.status = status;
    this.body = body;
  }
}

// One readable line for an API error body: its message, then its
// problems or details.
function errorLine(body, status) {
  const e = body && body.error;
  if (!e) return `the server answered HTTP ${status}`;
  let line = e.message || e.code || `HTTP ${status}`;
  if (Array.isArray(e.problems) && e.problems.length) {
    line += ': ' + e.problems.map((p) => (p.flow ? p.flow + ': ' : '') + p.message).join('; ');
  } else if (Array.isArray(e.details) && e.details.length) {
    line += ': ' + e.details.join('; ');
  }
  return line;
}

// Calls the API. opts: json (a body to send as JSON), upload (a File or
// Blob sent raw), query (URLSearchParams), raw (resolve to the Response
// itself when it is ok: downloads). State-changing calls carry the CSRF
// token. Rejects with ApiError.
async function api(method, path, opts = {}) {
  const headers = {};
  let body;
  if (method !== 'GET' && state.csrf) headers['X-CSRF-Token'] = state.csrf;
  if (opts.json !== undefined) {
    headers['Content-Type'] = 'application/json';
    body = JSON.stringify(opts.json);
  } else if (opts.upload !== undefined) {
    headers['Content-Type'] = 'application/octet-stream';
    body = opts.upload;
  }
  const query = opts.query && String(opts.query) ? '?' + String(opts.query) : '';
  let res;
  try {
    res = await fetch('/api/v1' + path + query, {method, headers, body, credentials: 'same-origin', cache: 'no-store'});
  } catch (e) {
    throw new ApiError('the server cannot be reached (' + e.message + ')', 0, null);
  }
  if (opts.raw && res.ok) return res;
  const text = await res.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch (e) {
    data = null;
  }
  if (!res.ok) {
    if (res.status === 401 && path !== '/session') sessionLost();
    throw new ApiError(errorLine(data, res.status), res.status, data);
  }
  return data;
}

// The file name of a download's Content-Disposition.
function downloadName(res, fallback) {
  const header = res.headers.get('Content-Disposition') || '';
  const star = /filename\*=UTF-8''([^;]+)/i.exec(header);
  if (star) {
    try {
      return decodeURIComponent(star[1]);
    } catch (e) { /* the plain name below */ }
  }
  const plain = /filename="([^"]*)"/i.exec(header);
  return plain ? plain[1] : fallback;
}

// Saves a download response as the file the server names.
async function saveDownload(res, fallback) {
  const name = downloadName(res, fallback);
  const blob = await res.blob();
  const url = URL.createObjectURL(blob);
  const a = el('a', {href: url, download: name, hidden: true});
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60000);
  return {name, bytes: blob.size, flows: res.headers.get('X-Flowrepo-Flows')};
}

// ------------------------------------------------------------ messages

function showError(message) {
  const box = $('error');
  box.textContent = message;
  box.hidden = false;
  $('notice').hidden = true;
}

function showNotice(message) {
  const box = $('notice');
  box.textContent = message;
  box.hidden = false;
  $('error').hidden = true;
}

function clearMessages() {
  $('error').hidden = true;
  $('notice').hidden = true;
}

// Runs an action of a button: disabled meanwhile, errors shown. An action
// that returns false leaves its button disabled (done once, for good).
async function act(button, action) {
  if (button) button.disabled = true;
  clearMessages();
  let enable = true;
  try {
    enable = (await action()) !== false;
  } catch (e) {
    showError(e instanceof ApiError ? e.message : 'error: ' + e.message);
  } finally {
    if (button && enable) button.disabled = false;
  }
}

// ------------------------------------------------------------ session

function sessionLost() {
  state.user = null;
  state.csrf = null;
  showLogin();
}

function showLogin() {
  $('nav').hidden = true;
  $('who').hidden = true;
  fill($('view'));
  $('login').hidden = false;
  $('login-token').focus();
}

async function logIn(event) {
  event.preventDefault();
  await act($('login-submit'), async () => {
    const session = await api('POST', '/session', {json: {token: $('login-token').value.trim()}});
    $('login-token').value = '';
    startSession(session);
    await route();
  });
}

function startSession(session) {
  state.user = session.user;
  state.csrf = session.csrf_token;
  state.workspaces = [];
  state.access = null;
  state.ws = null;
  $('login').hidden = true;
  $('nav').hidden = false;
  $('who').hidden = false;
  $('who-user').textContent = session.user;
}

async function logOut() {
  await act($('logout'), async () => {
    await api('DELETE', '/session');
    sessionLost();
  });
}

// ------------------------------------------------------------- routing

function can(role) {
  return state.access !== null && RANK[state.access.role] >= RANK[role];
}

function canExport() {
  return state.access !== null && can(state.access.export_role);
}

function hashOf(...parts) {
  return '#/' + parts.map(enc).join('/');
}

async function enterWorkspace(ws) {
  if (!state.workspaces.length) state.workspaces = await api('GET', '/workspaces');
  if (state.ws !== ws || state.access === null) {
    state.access = null;
    state.ws = ws;
    state.selection = new Selection();
    state.access = await api('GET', `/workspaces/${enc(ws)}/access`);
  }
  const picker = $('workspace-picker');
  fill(picker, ...state.workspaces.map((w) => el('option', {value: w.name, selected: w.name === ws}, w.name)));
  $('who-role').textContent = `${state.access.role} in ${ws}`;
  $('nav-tree').href = hashOf('ws', ws);
  $('nav-import').href = hashOf('ws', ws, 'import');
  $('nav-import').hidden = !can('integrator');
}

async function route() {
  if (!state.user) return;
  const parts = location.hash.replace(/^#\/?/, '').split('/').filter((p) => p !== '').map(decodeURIComponent);
  const view = $('view');
  try {
    if (parts[0] !== 'ws' || parts.length < 2) {
      const workspaces = await api('GET', '/workspaces');
      state.workspaces = workspaces;
      const first = workspaces.find((w) => w.name === 'main') || workspaces[0];
      if (!first) {
        fill(view, el('p', {}, 'This repository has no workspace.'));
        return;
      }
      location.replace(hashOf('ws', first.name));
      return;
    }
    const ws = parts[1];
    await enterWorkspace(ws);
    if (parts.length === 2) await renderTree(ws);
    else if (parts[2] === 'flow' && parts[3]) await renderFlow(ws, parts[3]);
    else if (parts[2] === 'import') await renderImport(ws);
    else fill(view, el('p', {}, 'No such page.'));
  } catch (e) {
    if (e instanceof ApiError && e.status === 401) return;
    fill(view);
    showError(e instanceof ApiError ? e.message : 'error: ' + e.message);
  }
}

// ---------------------------------------------------------------- tree

// What the tree's checks select: groups and flows checked explicitly, and
// groups and flows left out of a checked group. A flow or group below a
// checked group is checked implicitly unless left out.
class Selection {
  constructor() {
    this.groups = new Set();
    this.flows = new Set();
    this.excludedGroups = new Set();
    this.excludedFlows = new Set();
  }

  // 'explicit', 'implicit', 'excluded' or 'none'.
  groupState(path) {
    if (this.excludedGroups.has(path)) return 'excluded';
    if (this.groups.has(path)) return 'explicit';
    const parent = parentOf(path);
    if (parent !== null && this.covers(parent)) return 'implicit';
    return 'none';
  }

  flowState(flow) {
    if (this.excludedFlows.has(flow.id)) return 'excluded';
    if (this.flows.has(flow.id)) return 'explicit';
    if (flow.group && this.covers(flow.group)) return 'implicit';
    return 'none';
  }

  covers(path) {
    const s = this.groupState(path);
    return s === 'explicit' || s === 'implicit';
  }

  // Whether a group left out holds \a path (its flows cannot be checked:
  // the exclusion would win).
  blocked(path) {
    for (let p = path; p !== null; p = parentOf(p)) {
      if (this.excludedGroups.has(p)) return true;
    }
    return false;
  }

  // Drops explicit checks and exclusions below \a path.
  clearBelow(path, flowsByGroup) {
    const prefix = path + '/';
    for (const set of [this.groups, this.excludedGroups]) {
      for (const g of [...set]) if (g.startsWith(prefix)) set.delete(g);
    }
    for (const [group, ids] of flowsByGroup) {
      if (group === path || group.startsWith(prefix)) {
        for (const id of ids) {
          this.flows.delete(id);
          this.excludedFlows.delete(id);
        }
      }
    }
  }

  toggleGroup(path, flowsByGroup) {
    switch (this.groupState(path)) {
      case 'explicit':
        this.groups.delete(path);
        this.clearBelow(path, flowsByGroup);
        break;
      case 'implicit':
        this.excludedGroups.add(path);
        this.clearBelow(path, flowsByGroup);
        break;
      case 'excluded':
        this.excludedGroups.delete(path);
        break;
      default:
        this.groups.add(path);
        this.clearBelow(path, flowsByGroup);
    }
  }

  toggleFlow(flow) {
    switch (this.flowState(flow)) {
      case 'explicit': this.flows.delete(flow.id); break;
      case 'implicit': this.excludedFlows.add(flow.id); break;
      case 'excluded': this.excludedFlows.delete(flow.id); break;
      default: this.flows.add(flow.id);
    }
  }

  isEmpty() {
    return this.groups.size === 0 && this.flows.size === 0;
  }

  // The body of POST .../export (and .../export/plan).
  request(dependencies) {
    return {
      flows: [...this.flows],
      groups: [...this.groups],
      exclude: [...this.excludedFlows, ...[...this.excludedGroups].map((g) => g + '/')],
      dependencies,
    };
  }
}

function parentOf(path) {
  const slash = path.lastIndexOf('/');
  return slash < 0 ? null : path.slice(0, slash);
}

const STATE_TAG = {implicit: '(in group)', excluded: '(left out)', explicit: '', none: ''};

async function renderTree(ws) {
  const tree = await api('GET', `/workspaces/${enc(ws)}/tree`);
  const selection = state.selection;
  const selectable = canExport();
  const flowsByGroup = new Map();
  (function index(node) {
    for (const f of node.flows) {
      if (!flowsByGroup.has(f.group)) flowsByGroup.set(f.group, []);
      flowsByGroup.get(f.group).push(f.id);
    }
    for (const g of node.groups) index(g);
  })(tree);

  const treeList = el('ul', {class: 'tree root', id: 'tree'});
  const summary = el('div', {id: 'summary'});
  const policy = el('select', {id: 'dependency-policy'},
      el('option', {value: 'include', selected: true}, 'include what they use'),
      el('option', {value: 'reference'}, 'reference what they use'),
      el('option', {value: 'fail'}, 'refuse if they use others'));
  const exportButton = el('button', {type: 'button', id: 'export-button'}, 'Export');
  let planRequest = 0;

  function checkbox(kind, key, st, blocked, onToggle) {
    const box = el('input', {type: 'checkbox', ['data-' + kind]: key, 'data-state': st, disabled: blocked});
    box.checked = st === 'explicit' || st === 'implicit';
    box.addEventListener('change', () => {
      onToggle();
      redraw();
    });
    return box;
  }

  function flowItem(f) {
    const st = selection.flowState(f);
    const blocked = st === 'none' && f.group !== '' && selection.blocked(f.group);
    const latest = f.latest === null ? 'unpublished' : `v${f.latest}`;
    return el('li', {class: st},
        selectable ? checkbox('flow', f.id, st, blocked, () => selection.toggleFlow(f)) : null, ' ',
        el('a', {href: hashOf('ws', ws, 'flow', f.id)}, f.name), el('span', {class: 'tag'}, `${f.id} · ${latest}`),
        STATE_TAG[st] ? el('span', {class: 'tag'}, STATE_TAG[st]) : null);
  }

  function groupItem(g) {
    const st = selection.groupState(g.path);
    const blocked = st === 'none' && parentOf(g.path) !== null && selection.blocked(parentOf(g.path));
    return el('li', {class: st},
        el('span', {class: 'group-name'},
            selectable ? checkbox('group', g.path, st, blocked, () => selection.toggleGroup(g.path, flowsByGroup)) : null,
            ' ', g.name),
        STATE_TAG[st] ? el('span', {class: 'tag'}, STATE_TAG[st]) : null,
        el('ul', {class: 'tree'}, g.groups.map(groupItem), g.flows.map(flowItem)));
  }

  function redraw() {
    fill(treeList, ...tree.groups.map(groupItem), ...tree.flows.map(flowItem));
    if (selectable) updateSummary();
  }

  // The flows checked in the tree, then the export's plan from the server:
  // which flows the package holds and which the policy adds.
  async function updateSummary() {
    const chosen = [];
    (function walk(node) {
      for (const f of node.flows) {
        const st = selection.flowState(f);
        if (st === 'explicit' || st === 'implicit') chosen.push(f);
      }
      for (const g of node.groups) walk(g);
    })(tree);
    exportButton.disabled = chosen.length === 0;
    if (chosen.length === 0) {
      fill(summary, el('p', {class: 'muted'}, 'Nothing checked yet.'));
      return;
    }
    const request = ++planRequest;
    fill(summary, el('h3', {}, `Checked: ${chosen.length} flow(s)`),
        el('ul', {id: 'summary-checked'}, chosen.map((f) => el('li', {'data-flow': f.id}, `${f.name} (${f.id})`))),
        el('p', {class: 'muted', id: 'summary-pending'}, 'Working out the package…'));
    try {
      const plan = await api('POST', `/workspaces/${enc(ws)}/export/plan`, {json: selection.request(policy.value)});
      if (request !== planRequest) return;
      const added = plan.flows.filter((f) => f.dependency);
      fill(summary, 
          el('h3', {}, `The package holds ${plan.flow_count} flow(s)`),
          el('ul', {id: 'summary-flows'}, plan.flows.map((f) => el('li', {'data-flow': f.id, class: f.dependency ? 'dep' : null},
              `${f.name} (${f.id})`, f.dependency ? el('span', {class: 'tag'}, 'added: a checked flow uses it') : null))),
          added.length ? el('p', {id: 'summary-added'}, `The policy adds ${added.length} dependency(ies): `,
              added.map((f) => f.id).join(', ')) : el('p', {class: 'muted'}, 'The policy adds no flow.'),
          plan.referenced_dependencies.length ? el('p', {id: 'summary-referenced'},
              'Referenced, not included (the target must have them): ', plan.referenced_dependencies.join(', ')) : null);
    } catch (e) {
      if (request !== planRequest) return;
      fill(summary, el('p', {class: 'error', id: 'summary-error'}, e.message));
      exportButton.disabled = true;
    }
  }

  policy.addEventListener('change', () => updateSummary());
  exportButton.addEventListener('click', () => act(exportButton, async () => {
    const res = await api('POST', `/workspaces/${enc(ws)}/export`, {json: selection.request(policy.value), raw: true});
    const saved = await saveDownload(res, 'export.studiopkg');
    showNotice(`Exported ${saved.name}: ${saved.flows} flow(s), ${saved.bytes} bytes.`);
  }));

  const left = el('div', {class: 'card'}, el('h1', {}, `Flows of ${ws}`),
      selectable ? el('p', {class: 'muted'},
          'Check a group to take everything below it; uncheck anything inside it to leave it out.') : null,
      treeList);
  const right = selectable ?
      el('div', {class: 'card', id: 'export-panel'}, el('h2', {}, 'Export'),
          el('div', {class: 'row'}, el('label', {}, 'Dependencies ', policy)), summary,
          el('div', {class: 'row'}, exportButton)) :
      el('div', {class: 'card'}, el('p', {class: 'muted'},
          `Exporting flows of ${ws} needs the role ${state.access.export_role}.`));
  fill($('view'), el('div', {class: 'columns'}, left, right));
  redraw();
}

// ---------------------------------------------------------------- flow

function when(seconds) {
  return new Date(seconds * 1000).toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z');
}

function jsonText(value) {
  return value === undefined ? '' : typeof value === 'string' ? value : JSON.stringify(value, null, 1);
}

async function renderFlow(ws, id) {
  const base = `/workspaces/${enc(ws)}/flows/${enc(id)}`;
  const [flow, history, drafts] = await Promise.all([
    api('GET', base, {query: new URLSearchParams({file: 'app_definition.json'})}),
    api('GET', base + '/history'),
    api('GET', `/workspaces/${enc(ws)}/drafts`),
  ]);
  const versions = history.versions.slice().sort((a, b) => b.version - a.version);
  const latest = versions.length ? versions[0].version : null;
  const view = $('view');
  const cards = [];

  cards.push(el('div', {class: 'card'}, el('h1', {id: 'flow-title'}, flow.name),
      el('p', {class: 'muted'}, `${flow.id} · ${flow.group || '(no group)'} · ${flow.format}`)));

  // Versions: the latest preselected; export and revert act on the chosen one.
  const versionBox = el('div', {id: 'versions'});
  if (!versions.length) versionBox.append(el('p', {class: 'muted'}, 'Not published yet.'));
  for (const v of versions) {
    versionBox.append(el('div', {class: 'row'}, el('label', {},
        el('input', {type: 'radio', name: 'version', value: v.version, checked: v.version === latest}),
        ` v${v.version}`, v.flow !== id ? ` (as ${v.flow})` : '', el('span', {class: 'tag'}, `${when(v.time)} ${v.note}`))));
  }
  const chosen = () => {
    const checked = versionBox.querySelector('input[name=version]:checked');
    return checked ? Number(checked.value) : null;
  };
  const actions = el('div', {class: 'row'});
  if (versions.length && canExport()) {
    const b = el('button', {type: 'button', id: 'export-version'}, 'Export this version');
    b.addEventListener('click', () => act(b, async () => {
      const res = await api('GET', base + '/export', {query: new URLSearchParams({version: `v${chosen()}`}), raw: true});
      const saved = await saveDownload(res, `${flow.name}.zip`);
      showNotice(`Exported ${saved.name} (${saved.bytes} bytes).`);
    }));
    actions.append(b);
  }
  if (versions.length && can('integrator')) {
    const b = el('button', {type: 'button', class: 'secondary', id: 'revert'}, 'Revert to this version (makes a draft)');
    b.addEventListener('click', () => act(b, async () => {
      const r = await api('POST', base + '/revert', {json: {version: `v${chosen()}`}});
      showNotice(`Version v${chosen()} is on draft '${r.draft.name}': publish it to make it the next version.`);
      await renderDrafts();
    }));
    actions.append(b);
  }
  cards.push(el('div', {class: 'card'}, el('h2', {}, 'Versions'), versionBox, actions));

  // History.
  cards.push(el('div', {class: 'card'}, el('h2', {}, 'History'),
      el('table', {id: 'history'}, el('tr', {}, el('th', {}, 'version'), el('th', {}, 'published'), el('th', {}, 'by'),
          el('th', {}, 'note'), el('th', {}, 'commit')),
      versions.map((v) => el('tr', {'data-version': v.version}, el('td', {}, `v${v.version}`), el('td', {}, when(v.time)),
          el('td', {}, v.author), el('td', {}, v.note), el('td', {}, v.commit.slice(0, 12))))),
      history.removed.length ? el('p', {class: 'muted'}, `Removed ${history.removed.length} time(s).`) : null));

  // Diff between two versions, node by node.
  if (versions.length) {
    const pick = (name, selected) => el('select', {id: name}, versions.map((v) =>
        el('option', {value: `v${v.version}`, selected: v.version === selected}, `v${v.version}`)));
    const from = pick('diff-from', versions.length > 1 ? versions[1].version : latest);
    const to = pick('diff-to', latest);
    const out = el('div', {id: 'diff'});
    const b = el('button', {type: 'button', class: 'secondary', id: 'diff-button'}, 'Show changes');
    b.addEventListener('click', () => act(b, async () => {
      const d = await api('GET', base + '/diff', {query: new URLSearchParams({from: from.value, to: to.value})});
      fill(out, d.changes.length ?
          el('table', {}, el('tr', {}, el('th', {}, 'change'), el('th', {}, 'node'), el('th', {}, 'where'),
              el('th', {}, 'before'), el('th', {}, 'after')),
          d.changes.map((c) => el('tr', {}, el('td', {class: 'kind-' + c.kind}, c.kind), el('td', {}, c.node || ''),
              el('td', {}, `${c.file} ${c.pointer}`), el('td', {}, el('pre', {class: 'value'}, jsonText(c.before))),
              el('td', {}, el('pre', {class: 'value'}, jsonText(c.after)))))) :
          el('p', {class: 'muted'}, `No changes between ${from.value} and ${to.value}.`));
    }));
    cards.push(el('div', {class: 'card'}, el('h2', {}, 'Changes between two versions'),
        el('div', {class: 'row'}, el('label', {}, 'from ', from), el('label', {}, 'to ', to), b), out));
  }

  // Drafts that change this flow, each publishable.
  const draftBox = el('div', {id: 'drafts'});
  async function renderDrafts() {
    const list = await api('GET', `/workspaces/${enc(ws)}/drafts`);
    fillDrafts(list);
  }
  function fillDrafts(list) {
    const mine = list.filter((d) => d.changed_flows.includes(id));
    fill(draftBox, el('h2', {}, 'Drafts changing this flow'),
        mine.length ? null : el('p', {class: 'muted'}, 'None.'),
        mine.map((d) => draftRow(ws, d, () => route())));
  }
  fillDrafts(drafts);
  cards.push(el('div', {class: 'card'}, draftBox));

  if (can('integrator')) cards.push(copyCard(ws, id, flow));
  fill(view, ...cards);
}

// One draft with what it changes and, for an integrator, Publish.
function draftRow(ws, d, after) {
  const row = el('div', {class: 'step', 'data-draft': d.name}, el('strong', {}, d.name),
      el('span', {class: 'tag'}, `changes: ${d.changed_flows.join(', ') || 'nothing'}` +
          (d.removed_flows.length ? `; removes: ${d.removed_flows.join(', ')}` : '') +
          (d.settings_changes.length ? `; ${d.settings_changes.length} settings change(s)` : '')));
  if (can('integrator')) {
    const note = el('input', {type: 'text', placeholder: 'release note', 'data-role': 'note'});
    const b = el('button', {type: 'button', 'data-role': 'publish'}, 'Publish');
    b.addEventListener('click', () => act(b, async () => {
      const r = await api('POST', `/workspaces/${enc(ws)}/drafts/${enc(d.name)}/publish`, {json: {note: note.value}});
      showNotice('Published ' + (r.versions.map((v) => `${v.flow} v${v.version}`).join(', ') || 'the draft') + '.');
      await after(r);
    }));
    row.append(el('div', {class: 'row'}, note, b));
  }
  return row;
}

function copyCard(ws, id, flow) {
  const newId = el('input', {type: 'text', id: 'copy-id', placeholder: `${id}-copy`});
  const newName = el('input', {type: 'text', id: 'copy-name', placeholder: `${flow.name} (copy)`});
  const target = el('select', {id: 'copy-target'}, el('option', {value: ''}, 'this workspace'),
      state.workspaces.filter((w) => w.name !== ws).map((w) => el('option', {value: w.name}, w.name)));
  const out = el('div', {});
  const b = el('button', {type: 'button', class: 'secondary', id: 'copy-button'}, 'Copy onto a draft');
  b.addEventListener('click', () => act(b, async () => {
    const body = {};
    if (newId.value.trim()) body.new_id = newId.value.trim();
    if (newName.value.trim()) body.new_name = newName.value.trim();
    if (target.value) body.to_workspace = target.value;
    const r = await api('POST', `/workspaces/${enc(ws)}/flows/${enc(id)}/copy`, {json: body});
    const draft = target.value ? r.draft : r.draft.name;
    const into = target.value || ws;
    showNotice(`Copied onto draft '${draft}' of ${into}: publish it there to keep it.`);
    const list = await api('GET', `/workspaces/${enc(into)}/drafts`);
    const d = list.find((x) => x.name === draft);
    fill(out, d ? draftRow(into, d, () => route()) : el('p', {}, `Draft '${draft}'.`));
  }));
  return el('div', {class: 'card'}, el('h2', {}, 'Copy'),
      el('div', {class: 'row'}, el('label', {}, 'new id ', newId), el('label', {}, 'new name ', newName),
          el('label', {}, 'into ', target), b),
      el('p', {class: 'muted'}, 'Into another workspace the id and name may stay; in this one they must be new.'), out);
}

// -------------------------------------------------------------- import

async function renderImport(ws) {
  const view = $('view');
  if (!can('integrator')) {
    fill(view, el('p', {}, `Importing into ${ws} needs the role integrator.`));
    return;
  }
  const tree = await api('GET', `/workspaces/${enc(ws)}/tree`);
  const existing = [];
  (function walk(node) {
    existing.push(...node.flows);
    node.groups.forEach(walk);
  })(tree);

  const file = el('input', {type: 'file', id: 'import-file', accept: '.studiopkg,.zip'});
  const inspectButton = el('button', {type: 'button', id: 'inspect-button'}, 'Check package');
  const report = el('div', {id: 'package-report'});
  const options = el('div', {id: 'import-options'});
  const plan = el('div', {id: 'import-plan'});
  const bindStep = el('div', {id: 'bind-step'});
  const publishStep = el('div', {id: 'publish-step'});
  let pkg = null;  // the inspected package: {file, report}

  inspectButton.addEventListener('click', () => act(inspectButton, async () => {
    const f = file.files[0];
    if (!f) throw new Error('choose a package file first');
    for (const box of [report, options, plan, bindStep, publishStep]) fill(box);
    const r = await api('POST', `/workspaces/${enc(ws)}/import/inspect`,
        {upload: f, query: new URLSearchParams({filename: f.name})});
    pkg = {file: f, report: r};
    showReport(r);
    if (r.ok) showOptions(r);
  }));

  function showReport(r) {
    fill(report, el('h2', {}, `Package ${r.package}`),
        el('p', {class: 'muted'}, `from workspace ${r.source.workspace || '?'} at ${(r.source.commit || '').slice(0, 12)}`),
        el('table', {}, el('tr', {}, el('th', {}, 'flow'), el('th', {}, 'group'), el('th', {}, 'topics'),
            el('th', {}, 'credentials to bind'), el('th', {}, 'uses')),
        r.flows.map((f) => el('tr', {}, el('td', {}, `${f.name} (${f.id})`), el('td', {}, f.group),
            el('td', {}, f.topics.join(', ')), el('td', {}, f.credentials.map((c) => `${c.node}: ${c.type}`).join(', ')),
            el('td', {}, f.dependencies.map((d) => d.flow + (d.included ? '' : ' (not in package)')).join(', '))))),
        r.requirements.components.length ?
            el('p', {}, 'Components needed: ', r.requirements.components.join(', ')) : null,
        r.required_flows.length ? el('p', {}, 'Flows the target must have: ', r.required_flows.join(', ')) : null,
        r.problems.length ? el('div', {class: 'error', id: 'package-problems'}, el('strong', {}, 'Problems:'),
            el('ul', {}, r.problems.map((p) => el('li', {}, `${p.flow ? p.flow + ': ' : ''}${p.message} [${p.rule}]`)))) :
            el('p', {class: 'muted'}, 'The package is valid.'));
  }

  // Topic mapping and new/override choice; Dry run shows what would change.
  function showOptions(r) {
    const topicRows = r.requirements.topics.map((topic) => {
      const users = r.flows.filter((f) => f.topics.includes(topic)).map((f) => f.id);
      const exists = state.access.topics.includes(topic);
      const select = el('select', {'data-topic': topic},
          exists ? el('option', {value: ''}, `keep '${topic}'`) : el('option', {value: ''}, 'choose a topic…'),
          state.access.topics.filter((t) => t !== topic).map((t) => el('option', {value: t}, t)));
      return {topic, select, row: el('tr', {}, el('td', {}, topic), el('td', {}, users.join(', ')),
          el('td', {}, '→ ', select), el('td', {class: 'muted'}, exists ? 'exists here' : 'missing here: map it'))};
    });
    const ids = new Set(existing.map((f) => f.id));
    const clashing = r.flows.filter((f) => ids.has(f.id)).map((f) => f.id);
    const mode = el('select', {id: 'import-mode'},
        el('option', {value: 'add'}, 'add as new flows'),
        el('option', {value: 'override-existing', selected: clashing.length > 0},
            'override the flows with the same id, add the others'),
        el('option', {value: 'as-new'}, 'add as copies under new ids'),
        r.flows.length === 1 ? el('option', {value: 'override'}, 'override one flow:') : null);
    const overrideFlow = el('select', {id: 'import-override', hidden: true},
        existing.map((f) => el('option', {value: f.id}, `${f.name} (${f.id})`)));
    mode.addEventListener('change', () => {
      overrideFlow.hidden = mode.value !== 'override';
    });
    const draft = el('input', {type: 'text', id: 'import-draft', placeholder: 'import-<package>'});
    const dryRun = el('button', {type: 'button', class: 'secondary', id: 'dry-run-button'}, 'Dry run');
    const doImport = el('button', {type: 'button', id: 'import-button', disabled: true}, 'Import onto a draft');

    function query(dry) {
      const q = new URLSearchParams({filename: pkg.file.name, mode: mode.value});
      if (mode.value === 'override') q.set('override', overrideFlow.value);
      if (draft.value.trim()) q.set('draft', draft.value.trim());
      for (const t of topicRows) if (t.select.value) q.append('topic', `${t.topic}=${t.select.value}`);
      if (dry) q.set('dry_run', '1');
      return q;
    }
    // Any change of choice asks for a new dry run before the import.
    for (const input of [mode, overrideFlow, draft, ...topicRows.map((t) => t.select)]) {
      input.addEventListener('change', () => {
        doImport.disabled = true;
      });
    }
    dryRun.addEventListener('click', () => act(dryRun, async () => {
      fill(plan);
      try {
        const result = await api('POST', `/workspaces/${enc(ws)}/import`, {upload: pkg.file, query: query(true)});
        showPlan(result, 'Dry run: nothing written yet. Importing would:');
        doImport.disabled = false;
      } catch (e) {
        const problems = e.body && e.body.error && e.body.error.problems;
        if (problems && problems.length) {
          fill(plan, el('div', {class: 'error', id: 'plan-problems'}, el('strong', {}, e.body.error.message),
              el('ul', {}, problems.map((p) => el('li', {}, `${p.flow ? p.flow + ': ' : ''}${p.message}`)))));
          return;
        }
        throw e;
      }
    }));
    doImport.addEventListener('click', () => act(doImport, async () => {
      const result = await api('POST', `/workspaces/${enc(ws)}/import`, {upload: pkg.file, query: query(false)});
      showPlan(result, `Imported onto draft '${result.draft}':`);
      showNotice(`Imported ${result.flows.length} flow(s) onto draft '${result.draft}'.`);
      await showBind(result.draft);
      return false;  // imported: a new dry run enables it again
    }));

    fill(options, el('div', {class: 'step'}, el('h2', {}, 'Map topics'),
        topicRows.length ? el('table', {id: 'topic-map'}, el('tr', {}, el('th', {}, 'package topic'),
            el('th', {}, 'used by'), el('th', {}, 'becomes'), el('th', {}, '')), topicRows.map((t) => t.row)) :
            el('p', {class: 'muted'}, 'The package uses no topic.')),
    el('div', {class: 'step'}, el('h2', {}, 'New or override'),
        clashing.length ? el('p', {}, 'Already here: ', clashing.join(', ')) : null,
        el('div', {class: 'row'}, mode, overrideFlow, el('label', {}, 'draft ', draft)),
        el('div', {class: 'row'}, dryRun, doImport)));
  }

  function showPlan(result, heading) {
    fill(plan, el('div', {class: 'step'}, el('h2', {}, heading),
        el('table', {id: 'plan-flows'}, el('tr', {}, el('th', {}, 'package flow'), el('th', {}, 'becomes'),
            el('th', {}, 'action'), el('th', {}, 'topics'), el('th', {}, 'to bind')),
        result.flows.map((f) => el('tr', {'data-flow': f.id}, el('td', {}, f.source_id),
            el('td', {}, `${f.name} (${f.id}) in ${f.group || '(no group)'}`), el('td', {}, f.action),
            el('td', {}, Object.entries(f.topics).map(([a, b]) => `${a} → ${b}`).join(', ')),
            el('td', {}, [...f.unbound_credentials.map((n) => `credential of ${n}`),
              ...f.unbound_secrets.map((s) => `secret ${s}`)].join(', '))))),
        result.declared_components.length ? el('p', {}, 'Declares components: ', result.declared_components.join(', ')) :
            null,
        el('p', {class: 'muted'}, result.created_draft ? `Draft '${result.draft}' is new.` :
            `Draft '${result.draft}' exists already.`)));
  }

  // Credentials and secret references each imported flow still needs.
  async function showBind(draftName) {
    const unbound = await api('GET', `/workspaces/${enc(ws)}/drafts/${enc(draftName)}`,
        {query: new URLSearchParams({unbound: '1'})});
    const inputs = [];
    const rows = [];
    for (const f of unbound.flows) {
      for (const c of f.credentials) {
        const input = el('input', {type: 'text', 'data-node': c.node, 'data-flow': f.flow, placeholder: `a ${c.type} credential`});
        inputs.push({flow: f.flow, kind: 'credentials', key: c.node, input});
        rows.push(el('tr', {}, el('td', {}, f.flow), el('td', {}, `node ${c.node} (${c.type})`), el('td', {}, input)));
      }
      for (const s of f.secrets) {
        const input = el('input', {type: 'text', 'data-secret': s, 'data-flow': f.flow, placeholder: 'vault:…'});
        inputs.push({flow: f.flow, kind: 'secrets', key: s, input});
        rows.push(el('tr', {}, el('td', {}, f.flow), el('td', {}, `secret ${s}`), el('td', {}, input)));
      }
    }
    const bindButton = el('button', {type: 'button', id: 'bind-button'}, 'Bind');
    bindButton.addEventListener('click', () => act(bindButton, async () => {
      const byFlow = new Map();
      for (const i of inputs) {
        if (!i.input.value.trim()) continue;
        if (!byFlow.has(i.flow)) byFlow.set(i.flow, {flow: i.flow, credentials: {}, secrets: {}});
        byFlow.get(i.flow)[i.kind][i.key] = i.input.value.trim();
      }
      if (!byFlow.size) throw new Error('fill in a credential or secret reference first');
      for (const body of byFlow.values()) {
        await api('POST', `/workspaces/${enc(ws)}/drafts/${enc(draftName)}/bind`, {json: body});
      }
      showNotice(`Bound ${[...byFlow.keys()].join(', ')} on draft '${draftName}'.`);
      await showBind(draftName);
    }));
    fill(bindStep, el('div', {class: 'step' + (rows.length ? '' : ' done')}, el('h2', {}, 'Bind credentials'),
        rows.length ? [el('p', {}, `Draft '${draftName}' cannot be published until these are bound:`),
          el('table', {id: 'bind-table'}, rows), el('div', {class: 'row'}, bindButton)] :
            el('p', {id: 'bind-done'}, 'Nothing left to bind.')));
    await showPublish(draftName);
  }

  // What publishing the draft changes, and Publish.
  async function showPublish(draftName) {
    const d = await api('GET', `/workspaces/${enc(ws)}/drafts/${enc(draftName)}`);
    fill(publishStep, el('div', {class: 'step'}, el('h2', {}, 'Publish'),
        el('p', {}, `Publishing draft '${d.name}' makes a new version of: ${d.changed_flows.join(', ') || 'nothing'}.`),
        d.settings_changes.length ? el('ul', {}, d.settings_changes.map((c) => el('li', {}, c.message))) : null,
        draftRow(ws, d, (r) => {
          const links = r.versions.map((v) => el('li', {}, el('a', {href: hashOf('ws', ws, 'flow', v.flow)},
              `${v.flow} v${v.version}`)));
          fill(publishStep, el('div', {class: 'step done', id: 'published'}, el('h2', {}, 'Published'),
              el('ul', {}, links)));
        })));
  }

  fill(view, el('div', {class: 'card'}, el('h1', {}, `Import into ${ws}`),
      el('div', {class: 'step'}, el('h2', {}, 'Upload a package'), el('div', {class: 'row'}, file, inspectButton)),
      report, options, plan, bindStep, publishStep));
}

// --------------------------------------------------------------- start

async function start() {
  $('login').addEventListener('submit', logIn);
  $('logout').addEventListener('click', logOut);
  $('workspace-picker').addEventListener('change', (e) => {
    location.hash = hashOf('ws', e.target.value);
  });
  window.addEventListener('hashchange', () => {
    clearMessages();
    route();
  });
  try {
    startSession(await api('GET', '/session'));
  } catch (e) {
    if (!(e instanceof ApiError) || e.status !== 401) showError(e.message);
    showLogin();
    return;
  }
  await route();
}

document.addEventListener('DOMContentLoaded', start);
