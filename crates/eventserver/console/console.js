// auditrail web console (docs/console.md). Plain JavaScript, no dependencies, no build.
//
// Every value that comes from an event (node, topic, user, message, ...) is written by a
// node and so is attacker-controlled: it only ever enters the page through
// `textContent` or an attribute value set with `setAttribute` on a non-URL, non-event
// attribute — never `innerHTML`, never a URL. The server's Content-Security-Policy allows
// no inline script either.
'use strict';

(function () {
  const KEY_STORAGE = 'auditrail.statsKey';
  const TAIL_ROWS = 500;
  const SVG_NS = 'http://www.w3.org/2000/svg';
  const PALETTE = ['#1f5fbf', '#d1741c', '#2f9e44', '#b3261e', '#7048e8', '#0c8599',
    '#c2255c', '#5c940d', '#e67700', '#495057'];

  const $ = (id) => document.getElementById(id);

  // ---- DOM helpers: text only --------------------------------------------------

  /** An element with text or children; `cls` a class name. */
  function el(tag, cls, content) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    append(e, content);
    return e;
  }

  function append(parent, content) {
    if (content === undefined || content === null) return;
    if (Array.isArray(content)) {
      content.forEach((c) => append(parent, c));
    } else if (content instanceof Node) {
      parent.appendChild(content);
    } else {
      parent.appendChild(document.createTextNode(String(content)));
    }
  }

  /** An SVG element; `text` is shown through `shown`, unless it is `{ asShown }`: a text
   * made for the page already (a report's row name, `groupName`), which shown again
   * would be escaped twice (`"(none)"` as `"\"(none)\""`, a backslash as four). */
  function svg(tag, attrs, text) {
    const e = document.createElementNS(SVG_NS, tag);
    for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, String(v));
    if (text !== undefined) e.textContent = text !== null && typeof text === 'object' ? text.asShown : shown(text);
    return e;
  }

  function clear(node) {
    while (node.firstChild) node.removeChild(node.firstChild);
  }

  /** Replaces the rows of `table`'s body; `cells` per row: text, or {text, cls}. */
  function fillTable(table, rows, emptyText) {
    const body = table.tBodies[0];
    clear(body);
    if (rows.length === 0) {
      const td = el('td', 'empty', emptyText || 'nothing in this window');
      td.colSpan = table.tHead ? table.tHead.rows[0].cells.length : 1;
      body.appendChild(el('tr', null, td));
      return;
    }
    for (const cells of rows) {
      const tr = document.createElement('tr');
      for (const c of cells) {
        if (c !== null && typeof c === 'object' && !(c instanceof Node)) {
          const td = el('td', c.cls || null, c.text);
          if (c.title) td.setAttribute('title', c.title);
          tr.appendChild(td);
        } else {
          tr.appendChild(el('td', typeof c === 'number' ? 'num' : null, c));
        }
      }
      body.appendChild(tr);
    }
  }

  function setStatus(id, text, isError) {
    const p = $(id);
    p.textContent = text;
    p.classList.toggle('error', !!isError);
  }

  // ---- text from events, made safe to show (as the CLI's `shown.rs` does) ----------

  // Characters that change how a text reads without being seen: control characters
  // (C0, DEL, C1), the bidi formatting characters (an authUser "\u202eecila" would
  // read "alice"), the line and paragraph separators, and the invisible ones (zero-width
  // space and joiners, word joiner and invisible operators, BOM, soft hyphen, Mongolian
  // vowel separator: "bob\u200b" would look like "bob"), white space other than the
  // space ("\u00a0bob" would look like " bob"), the other format characters, variation
  // selectors, the combining grapheme joiner and blank letters. The same set as
  // `is_escaped` in the CLI's `shown.rs`.
  const HIDDEN = /[\u0000-\u001f\u007f-\u00a0\u00ad\u034f\u0600-\u0605\u061c\u06dd\u070f\u0890\u0891\u08e2\u115f\u1160\u1680\u180b-\u180f\u2000-\u200f\u2028-\u202f\u205f-\u206f\u2800\u3000\u3164\ufe00-\ufe0f\ufeff\uffa0\ufff9-\ufffb\u{110bd}\u{110cd}\u{13430}-\u{1343f}\u{1bca0}-\u{1bca3}\u{1d173}-\u{1d17a}\u{e0001}\u{e0020}-\u{e007f}\u{e0100}-\u{e01ef}]/u;
  // In a text not in NFC: combining marks, and the Hangul jamo that compose with the
  // character before them ("Jose\u0301" looks exactly like "Jos\u00e9").
  const MARK = /[\p{M}\u1161-\u1175\u11a8-\u11c2]/u;
  const hex = (c) => c.codePointAt(0).toString(16);

  /** Whether the character `c` of a text is written escaped; `notNfc`: that text is
   * not in NFC, where combining marks and what NFC would replace are escaped too (as
   * `nfc_stable` in `shown.rs`). */
  const escaped = (c, notNfc) => HIDDEN.test(c)
    || (notNfc && c > '\u007f' && (MARK.test(c) || c.normalize('NFC') !== c));

  // The values of the answer being shown that look like other values (UTS #39: another
  // script, `\u{430}dmin`; or the confusable skeleton of another value of their column,
  // `\u{49}ris` beside `\u{6c}ris`): column → value → the indexes of its characters
  // (code points) to show escaped. The server decides, by the rule of the CLI's tables
  // (auditrail-query's `lookalikes`), and sends them in the answer's `lookalikes`, each
  // with its column (the path of its field in the report's JSON: `.users[].user`): the
  // page keeps no copy of the rule or of Unicode's tables. A value is marked in its
  // column (the node `lris` is shown as it is beside the users `Iris` and `lris`); one
  // shown in no column (a chart's legend, a sentence: `ANY_COLUMN`) as in any column
  // it is marked in. Set while an answer is drawn (`withMarks`).
  const ANY_COLUMN = null;
  let marks = new Map();

  /** Adds the marks of the list `lookalikes` (as an answer sends them) to `all`
   * (column → value → indexes), each also under ANY_COLUMN when `anyColumn`; gives
   * the columns marked. */
  function addMarks(all, lookalikes, anyColumn) {
    const columns = new Set();
    const add = (column, value, escaped) => {
      const values = all.get(column) || new Map();
      all.set(column, values);
      const set = values.get(value) || new Set();
      escaped.forEach((i) => set.add(i));
      values.set(value, set);
    };
    for (const m of (Array.isArray(lookalikes) ? lookalikes : [])) {
      if (m === null || typeof m !== 'object' || typeof m.column !== 'string'
        || typeof m.value !== 'string' || !Array.isArray(m.escaped)) continue;
      add(m.column, m.value, m.escaped);
      if (anyColumn) add(ANY_COLUMN, m.value, m.escaped);
      columns.add(m.column);
    }
    return columns;
  }

  /** Runs `draw` with the marks `map` (column → value → indexes) in force. */
  function withMarkMap(map, draw) {
    const before = marks;
    marks = map;
    try {
      return draw();
    } finally {
      marks = before;
    }
  }

  /** Runs `draw` with the marks of `answers` (report answers) in force. */
  function withMarks(answers, draw) {
    const all = new Map();
    for (const a of answers) addMarks(all, a && a.lookalikes, true);
    withMarkMap(all, draw);
  }

  /** `text` (from an event) as shown: each `escaped` character written `\u{hex}` (TAB,
   * LF, CR as `\t`, `\n`, `\r`), a backslash as `\\` (as the CLI's `shown.rs`: else the
   * user "bob" + U+200B and the user typed `bob\u{200b}` would be shown alike), and in
   * quotes when it starts or ends with white space or starts with a quote ("alice "
   * would look like "alice", another user). `backslash` false: a server's message, not
   * an event's value, whose backslashes are its own (`\"` in a quoted name). `column`:
   * the value's column in the answer, for its marks (`withMarks`). */
  function shown(text, backslash = true, column = ANY_COLUMN) {
    const s = String(text);
    const notNfc = s.normalize('NFC') !== s;
    const mark = backslash ? (marks.get(column) || new Map()).get(s) : undefined;
    let t = '';
    let i = 0;
    for (const c of s) {
      const marked = mark !== undefined && mark.has(i++);
      if (c === '\\' && backslash) t += '\\\\';
      else if (!marked && !escaped(c, notNfc)) t += c;
      else t += c === '\t' ? '\\t' : c === '\n' ? '\\n' : c === '\r' ? '\\r' : '\\u{' + hex(c) + '}';
    }
    return t.trim() !== t || t.startsWith('"') ? '"' + t.replace(/"/g, '\\"') + '"' : t;
  }

  // A value that is not a string as its JSON (`compact`, whose escapes are JSON's own).
  // `column`: the value's column in the answer, for its marks (`withMarks`).
  const str = (v, column = ANY_COLUMN) => (v === undefined || v === null ? ''
    : typeof v === 'string' ? shown(v, true, column) : compact(JSON.stringify(v)));
  // What a report's cell shows for no value at all; a string that reads the same is
  // shown in quotes (the user "(no user name)" is not a failed login that named none).
  const NO_USER = '(no user name)';
  /** A report's text value as shown: as `str`, and in quotes when it would read as no
   * value (the empty string, as in the tail) or as the page's placeholder. */
  const named = (v, column = ANY_COLUMN) => (v === '' || v === NO_USER ? '"' + v.replace(/"/g, '\\"') + '"' : str(v, column));
  /** One value of a list a cell holds (client addresses, `value: count` pairs): as
   * `named`, and in quotes also when it holds a separator of such lists (`,`, `:`,
   * `(`, `)`): the one address "203.0.113.7, 10.0.0.1" read as two, and the error
   * "age=x, expected: number" of 2 queries as two errors (as `list_item` in the CLI's
   * `shown.rs`). */
  const listItem = (v, column = ANY_COLUMN) => {
    const t = named(v, column);
    return typeof v === 'string' && !t.startsWith('"') && /[,:()]/.test(t)
      ? '"' + t.replace(/"/g, '\\"') + '"' : t;
  };
  const counts = (map, column) => Object.entries(map || {}).map(([k, n]) => listItem(k, column) + ': ' + n).join(', ');
  const pairs = (list, column) => (list || []).map(([k, n]) => listItem(k, column) + ' (' + n + ')').join(', ');
  const seconds = (ms) => (Number(ms) / 1000).toFixed(1);
  const ms = (v) => (v === undefined || v === null ? '' : Number(v).toFixed(1));

  // ---- the stats key ---------------------------------------------------------------

  class KeyError extends Error {
    constructor(status, sent, message) {
      super(message);
      this.status = status;
      this.sent = sent;
    }
  }

  function key() {
    return sessionStorage.getItem(KEY_STORAGE) || '';
  }

  function headers() {
    const k = key();
    return k ? { Authorization: 'Bearer ' + k } : {};
  }

  // Whether the key form was opened by a refusal (or a key was just typed): the next
  // answer that reads data with the key closes it. Opened by hand, it stays open.
  let keyPending = false;

  /** Shows the key form, with why (text). */
  function askForKey(error) {
    keyPending = true;
    $('key-panel').hidden = false;
    const m = $('key-message');
    m.className = '';
    if (error.sent) {
      m.textContent = 'Key refused (HTTP ' + error.status + '): ' + error.message;
    } else {
      m.textContent = 'This server needs a stats key (HTTP ' + error.status + '): ' + error.message;
    }
    $('key-input').focus();
  }

  function keyAccepted() {
    if (!key() || !keyPending) return;
    keyPending = false;
    const m = $('key-message');
    m.textContent = 'Key accepted.';
    m.className = 'info';
    $('key-panel').hidden = true;
    $('key-button').textContent = 'Stats key (set)';
  }

  /** GET `path` as JSON; a refused key throws a KeyError, any other error an Error. */
  async function api(path, signal) {
    const sent = !!key();
    let resp;
    try {
      resp = await fetch(path, { headers: headers(), cache: 'no-store', signal });
    } catch (e) {
      // The browser says only "Failed to fetch" (a TypeError) for a server that is
      // down, unreachable, or answered no HTTP: say which part failed, as the tail does.
      if (e.name === 'AbortError') throw e;
      throw new Error('cannot reach the server: ' + e.message);
    }
    if (resp.status === 401 || resp.status === 403) {
      throw new KeyError(resp.status, sent, await errorText(resp));
    }
    if (!resp.ok) throw new Error('HTTP ' + resp.status + ': ' + (await errorText(resp)));
    const answer = await resp.json();
    keyAccepted();
    return answer;
  }

  async function errorText(resp) {
    const text = await resp.text();
    try {
      const body = JSON.parse(text);
      return body.message || body.error || text;
    } catch (_) {
      return text;
    }
  }

  // When each view last showed an answer (its status element's id → ISO time): a
  // failed refresh keeps the tables of before, and says how old they are.
  const loadedAt = {};

  function loaded(statusId, text) {
    loadedAt[statusId] = new Date().toISOString();
    setStatus(statusId, text);
    $(statusId).dataset.state = 'loaded';
  }

  function failed(statusId, e) {
    if (e.name === 'AbortError') return; // a newer load of the view took over
    if (!(e instanceof KeyError)) $(statusId).dataset.state = 'failed';
    const old = loadedAt[statusId] ? ' (what is shown below is the answer of ' + loadedAt[statusId] + ')' : '';
    if (e instanceof KeyError) {
      askForKey(e);
      setStatus(statusId, (e.sent ? 'Key refused.' : 'A stats key is needed.') + old, true);
    } else {
      setStatus(statusId, String(e.message || e) + old, true);
    }
  }

  // ---- JSON as written -----------------------------------------------------------

  // An event's values are shown as the node wrote them. JSON.parse would alter some:
  // a number beyond 2^53 is rounded (a seq of 9007199254740993 would read ...992, a
  // message's 12345678901234567890 would read 12345678901234567000), one beyond the
  // range of a double becomes null, and integer-like keys move to the front of their
  // object. So the fields of an event are cut out of the stream's text, which holds the
  // event as the node sent it (the server validated it: it is JSON, without duplicate
  // keys).

  const WS = ' \t\n\r';

  function skipWs(t, i) {
    while (i < t.length && WS.includes(t[i])) i++;
    return i;
  }

  /** The end of the JSON string that starts at `t[i]`. */
  function stringEnd(t, i) {
    for (i += 1; i < t.length; i++) {
      if (t[i] === '\\') i++;
      else if (t[i] === '"') return i + 1;
    }
    return t.length;
  }

  /** The end of the JSON value that starts at `t[i]`. */
  function valueEnd(t, i) {
    if (t[i] === '"') return stringEnd(t, i);
    if (t[i] === '{' || t[i] === '[') {
      let depth = 0;
      for (; i < t.length; i++) {
        const c = t[i];
        if (c === '"') i = stringEnd(t, i) - 1;
        else if (c === '{' || c === '[') depth++;
        else if ((c === '}' || c === ']') && --depth === 0) return i + 1;
      }
      return t.length;
    }
    while (i < t.length && !(',}]' + WS).includes(t[i])) i++;
    return i;
  }

  /** The text of the member `key` of the JSON object `t`, as written; null if none. */
  function member(t, key) {
    if (t === null) return null;
    let i = skipWs(t, 0);
    if (t[i] !== '{') return null;
    i = skipWs(t, i + 1);
    while (t[i] === '"') {
      const keyEnd = stringEnd(t, i);
      const start = skipWs(t, skipWs(t, keyEnd) + 1);
      const end = valueEnd(t, start);
      if (JSON.parse(t.slice(i, keyEnd)) === key) return t.slice(start, end);
      i = skipWs(t, end);
      if (t[i] !== ',') return null;
      i = skipWs(t, i + 1);
    }
    return null;
  }

  /** The JSON text `t` without white space between its tokens, and with the `escaped`
   * characters of its strings written as JSON escapes (`\u202e`, a pair of them beyond
   * U+FFFF): the same value. */
  function compact(t) {
    const notNfc = t.normalize('NFC') !== t;
    const json = (c) => [...Array(c.length).keys()]
      .map((k) => '\\u' + c.charCodeAt(k).toString(16).padStart(4, '0')).join('');
    let out = '';
    for (let i = 0; i < t.length;) {
      if (t[i] === '"') {
        const end = stringEnd(t, i);
        for (const c of t.slice(i, end)) out += escaped(c, notNfc) ? json(c) : c;
        i = end;
      } else {
        if (!WS.includes(t[i])) out += t[i];
        i++;
      }
    }
    return out;
  }

  /** A value as written (JSON text, or null) as a cell shows it: a string as its text,
   * anything else as its JSON. A string that would read as another value there is in
   * quotes: the empty one (no value shows as nothing), and one that is the JSON of
   * something else (the string "42" next to the number 42, "null" next to null). */
  function cell(json, column = ANY_COLUMN) {
    if (json === null) return '';
    if (!json.startsWith('"')) return compact(json);
    const text = JSON.parse(json);
    const t = shown(text, true, column);
    return t === text && (text === '' || readsAsJson(text)) ? '"' + text.replace(/"/g, '\\"') + '"' : t;
  }

  // A tail cell shows at most this many characters of its value: a 5 000-character user
  // name wrapped in its column made one row some 4 000 px tall, and pushed every other
  // event out of sight. (The message column is one line already, cut by CSS.)
  const CELL_CHARS = 200;

  /** Puts `text` into the cell `td`, cut at CELL_CHARS characters (code points, never
   * half of one) with the number of characters left out said in the cell; the whole
   * value is the cell's tooltip (`title`), so nothing is hidden without a word.
   * `wholeBytes`: the size of the whole value when `text` is only its start (a stub's
   * cut field): the cell then says so, and the tooltip holds the start it has. */
  function clipped(td, text, wholeBytes) {
    const chars = Array.from(text);
    const stubCut = typeof wholeBytes === 'number';
    if (chars.length <= CELL_CHARS && !stubCut) {
      append(td, text);
      return td;
    }
    append(td, chars.slice(0, CELL_CHARS).join(''));
    const more = chars.length - CELL_CHARS;
    append(td, el('span', 'more', stubCut
      ? '\u2026 (cut: the value is ' + wholeBytes + ' bytes; auditrail query events has it whole)'
      : '\u2026 (' + more + ' more character' + (more === 1 ? '' : 's') + ')'));
    td.setAttribute('title', text);
    return td;
  }

  /** Whether `text` is the JSON text of a value other than a string. */
  function readsAsJson(text) {
    try {
      return typeof JSON.parse(text) !== 'string';
    } catch (_) {
      return false;
    }
  }

  // ---- live tail -----------------------------------------------------------------

  let tail = null; // {controller, resumed, ended, backlog, older}
  // Why and when the last stream stopped without the user asking (it ended, or the tab
  // was hidden): said in a row when it resumes.
  let interrupted = null;
  // Rows wait here (oldest first) until the next frame is drawn. At thousands of events
  // a second, building a row per event (and dropping it again past TAIL_ROWS) kept the
  // page busy for seconds between two clicks; now at most TAIL_ROWS rows are built per
  // frame, and an event that newer ones push out before it is drawn is never built.
  let pending = [];
  // The stream text of each event in `pending` (a resumed stream skips those too).
  const pendingEvents = new Set();
  let drawing = false;
  // Between two drawings, at least DRAW_EVERY ms and four times what the last one took:
  // redrawing 500 rows (and laying out the table) takes 100 ms on an idle machine and
  // several times that on a busy one, so a flood drawn at every frame left no time for
  // clicks. The page stays at least three quarters idle; what a person can read is not
  // lost by waiting.
  const DRAW_EVERY = 250;
  let lastDraw = -DRAW_EVERY;
  let drawCost = 0;
  // The stream text of each event in a row: a resumed stream sends again some that are
  // shown, and they are skipped.
  const shownEvents = new Set();
  // The look-alikes the stream said (`event: lookalikes`: values of a column of the
  // tail that look like others of it, by the reports' rule, which the server applies):
  // column → value → indexes, as `marks`; kept until the rows are replaced. A mark
  // said after a row was drawn (`Iris`, then `lris` came) is applied to the rows drawn
  // (the cells of `remarked`'s columns) at the next drawing.
  let tailMarks = new Map();
  const remarked = new Set();
  // The column of each cell of the tail as the stream's marks name it: the path of its
  // value in a message's data.
  const TAIL_COLUMNS = {
    node: '.clientEvent.node', topic: '.clientEvent.topic', routingKey: '.clientEvent.routingKey',
    msgType: '.clientEvent.message.msgType', user: '.clientEvent.message.authUser',
    clientIP: '.clientEvent.message.clientIP',
  };

  function tailParams() {
    const params = new URLSearchParams();
    for (const name of ['topic', 'routingKey', 'node', 'user', 'msgType']) {
      // As typed: a filter is an exact match, and a routing key or user may start or
      // end with a space (" lead" was asked as "lead" and found nothing). The status line
      // shows such a value in quotes.
      const v = $('f-' + name).value;
      if (v !== '') params.set(name, v);
    }
    return params;
  }

  function stopTail() {
    if (tail) tail.controller.abort();
    tail = null;
  }

  function clearTail() {
    clear($('tail-body'));
    pending = [];
    pendingEvents.clear();
    shownEvents.clear();
    tailMarks = new Map();
    remarked.clear();
    interrupted = null;
  }

  /** Follows `/v1/stream`. `resume` (after the stream ended, or the tab was hidden): the
   * rows shown stay, and the server is asked for up to TAIL_ROWS kept events so that
   * what was accepted meanwhile is shown, those already shown skipped. Otherwise (the
   * page opened, a filter applied, the view shown again) the rows are replaced by the
   * newest 50. */
  async function startTail(resume) {
    stopTail();
    // backlog: how many more messages may still be kept events sent before the new ones
    // (at most the `limit` asked for); older: the events this stream queued since the
    // last one that was shown (see sseMessage).
    const mine = {
      controller: new AbortController(), resumed: !!resume, ended: null,
      backlog: resume ? TAIL_ROWS : 0, older: [],
    };
    tail = mine;
    const params = tailParams();
    setStatus('tail-status', 'connecting…');
    $('tail-status').dataset.state = 'connecting';
    let resp;
    const sent = !!key();
    const url = '/v1/stream?limit=' + (resume ? TAIL_ROWS : 50) + (params.toString() ? '&' + params.toString() : '');
    try {
      resp = await fetch(url, { headers: headers(), cache: 'no-store', signal: mine.controller.signal });
    } catch (e) {
      if (tail === mine) retryTail(mine, 'cannot reach the server: ' + e.message);
      return;
    }
    if (resp.status === 401 || resp.status === 403) {
      $('tail-status').dataset.state = 'refused';
      failed('tail-status', new KeyError(resp.status, sent, await errorText(resp)));
      return;
    }
    if (resp.status === 503) {
      // The server is stopping, or has all the streams it takes (max_streams).
      if (tail === mine) retryTail(mine, 'HTTP 503: ' + shown(await errorText(resp), false));
      return;
    }
    if (!resp.ok) {
      $('tail-status').dataset.state = 'failed';
      setStatus('tail-status', 'HTTP ' + resp.status + ': ' + (await errorText(resp)), true);
      return;
    }
    keyAccepted();
    if (!resume) clearTail();
    if (interrupted && ($('tail-body').rows.length > 0 || pending.length > 0)) {
      queueRow({
        notice: 'Interrupted at ' + interrupted.at + ' (' + interrupted.why + '), resumed at '
          + new Date().toISOString() + ': the events accepted in between are shown above only as far'
          + ' as the server still keeps them (its newest 1000); auditrail query events has them all',
      });
    }
    interrupted = null;
    const filters = [...params].map(([k, v]) => k + '=' + shown(v)).join(', ');
    setStatus('tail-status', 'live — ' + (filters || 'every event'));
    $('tail-status').dataset.state = 'live';
    const reader = resp.body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = '';
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += value;
        let end;
        // Server-Sent Events: messages end with a blank line.
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          sseMessage(buffer.slice(0, end), mine);
          buffer = buffer.slice(end + 2);
        }
      }
    } catch (e) {
      if (e.name === 'AbortError') return;
    }
    if (tail === mine) retryTail(mine, mine.ended || 'the stream ended');
  }

  function retryTail(mine, why) {
    if (!interrupted) interrupted = { why, at: new Date().toISOString() };
    $('tail-status').dataset.state = 'retrying';
    setStatus('tail-status', why + '; reconnecting in 3 s', true);
    setTimeout(() => {
      if (tail === mine) startTail(true);
    }, 3000);
  }

  function sseMessage(block, mine) {
    let type = 'message';
    const data = [];
    for (const line of block.split('\n')) {
      if (line.startsWith(':')) continue; // keep-alive comment
      const colon = line.indexOf(':');
      const field = colon < 0 ? line : line.slice(0, colon);
      let value = colon < 0 ? '' : line.slice(colon + 1);
      if (value.startsWith(' ')) value = value.slice(1);
      if (field === 'event') type = value;
      else if (field === 'data') data.push(value);
    }
    if (data.length === 0) return;
    const text = data.join('\n');
    if (type === 'message') {
      if (mine.backlog > 0) {
        mine.backlog--;
        // A resumed stream starts with the kept events, oldest first, so those it sends
        // before one that is shown (or waiting to be) are older than that one: they were
        // never shown because they were older than the oldest row, not accepted during
        // the interruption, and would be drawn above its notice as if they were.
        if (shownEvents.has(text) || pendingEvents.has(text)) {
          dropItems(mine.older);
          mine.older = [];
          return;
        }
        const item = { data: text };
        mine.older.push(item);
        queueRow(item);
        if (mine.backlog === 0) mine.older = [];
        return;
      }
      queueRow({ data: text });
      return;
    }
    let parsed;
    try {
      parsed = JSON.parse(text);
    } catch (_) {
      return;
    }
    if (type === 'lookalikes') {
      // Said before the event that makes them, so its row is drawn with them.
      addMarks(tailMarks, parsed, false).forEach((c) => remarked.add(c));
    } else if (type === 'lagged') {
      queueRow({ notice: parsed.missed + ' events were missed here (the console fell behind)' });
    } else if (type === 'end') {
      mine.ended = 'the server ended the stream: ' + shown(parsed.message || parsed.reason, false);
    }
  }

  function queueRow(item) {
    pending.push(item);
    if (item.data !== undefined) {
      pendingEvents.add(item.data);
      // Only events count: the notices stay, so that an interruption or a gap is still
      // said when TAIL_ROWS newer events come in before the next drawing.
      if (pendingEvents.size > TAIL_ROWS) {
        const oldest = pending.findIndex((p) => p.data !== undefined);
        pendingEvents.delete(pending[oldest].data);
        pending.splice(oldest, 1);
      }
    }
    if (!drawing) {
      drawing = true;
      const wait = Math.max(0, lastDraw + Math.max(DRAW_EVERY, 4 * drawCost) - performance.now());
      setTimeout(() => requestAnimationFrame(drawRows), wait);
    }
  }

  /** Takes queued events (of a resumed stream, found older than a shown one) away
   * again: from `pending`, or from the table if they were drawn meanwhile. */
  function dropItems(items) {
    if (items.length === 0) return;
    const dropped = new Set(items);
    pending = pending.filter((p) => !dropped.has(p));
    for (const item of items) {
      pendingEvents.delete(item.data);
      if (item.row) {
        shownEvents.delete(item.data);
        item.row.remove();
      }
    }
  }

  function drawRows() {
    const start = performance.now();
    drawing = false;
    const items = pending;
    pending = [];
    pendingEvents.clear();
    remark();
    const rows = document.createDocumentFragment();
    for (let k = items.length - 1; k >= 0; k--) {
      const row = items[k].data !== undefined ? eventRow(items[k].data) : noticeRow(items[k].notice);
      if (row) rows.appendChild(row);
      items[k].row = row; // for dropItems
    }
    const body = $('tail-body');
    const events = body.getElementsByClassName('event');
    // The page keeps the newest TAIL_ROWS events, and the notices among them or just
    // below the oldest (it says what happened before it): rows go from the bottom while
    // there are more events.
    if (rows.querySelectorAll('tr.event').length >= TAIL_ROWS) {
      shownEvents.clear();
      for (const tr of rows.children) if (tr.eventText !== undefined) shownEvents.add(tr.eventText);
      // The newest row of the table, when it is a notice, is just below the oldest event
      // drawn now.
      const first = body.firstElementChild;
      if (first && first.eventText === undefined) rows.appendChild(first);
      body.replaceChildren(rows);
    } else {
      body.insertBefore(rows, body.firstChild);
      while (events.length > TAIL_ROWS) {
        shownEvents.delete(body.lastElementChild.eventText);
        body.lastElementChild.remove();
      }
    }
    void body.offsetHeight; // the layout, done now to be measured (the frame would do it)
    lastDraw = performance.now();
    drawCost = lastDraw - start;
  }

  /** Draws again the cells of the rows drawn whose column got marks since the last
   * drawing (`remarked`): a value shown before its look-alike came. */
  function remark() {
    if (remarked.size === 0) return;
    for (const td of $('tail-body').querySelectorAll('td[data-column]')) {
      const values = remarked.has(td.dataset.column) && tailMarks.get(td.dataset.column);
      if (values && td.tailValue !== undefined && values.has(td.tailValue)) tailCell(td);
    }
    remarked.clear();
  }

  /** Fills the tail's cell `td` with its value (`td.tailJson`), marked by `tailMarks`. */
  function tailCell(td) {
    clear(td);
    td.removeAttribute('title');
    withMarkMap(tailMarks, () => clipped(td, cell(td.tailJson, td.dataset.column || ANY_COLUMN), td.cutSize));
    return td;
  }

  /** The row of one stream message (`data`: the event in its envelope, as sent). */
  function eventRow(data) {
    let envelope;
    try {
      envelope = JSON.parse(data);
    } catch (_) {
      return null;
    }
    const event = member(data, 'clientEvent');
    const message = member(event, 'message');
    const inMessage = message !== null && message.startsWith('{') ? message : null;
    const tr = el('tr', 'event');
    const cells = [member(event, 'timestamp'), member(event, 'node'), member(event, 'seq'),
      member(event, 'topic'), member(event, 'routingKey'), member(inMessage, 'msgType'),
      member(inMessage, 'authUser'), member(inMessage, 'clientIP')];
    const names = ['time', 'node', 'seq', 'topic', 'routingKey', 'msgType', 'user', 'clientIP'];
    // A stub (an event over 16 KiB) holds its msgType and authUser cut to their start
    // (`cutFields`: the whole value's size in bytes).
    const cutFields = typeof envelope.omittedBytes === 'number' && envelope.cutFields !== null
      && typeof envelope.cutFields === 'object' ? envelope.cutFields : {};
    const cutSize = { msgType: cutFields.msgType, user: cutFields.authUser };
    cells.forEach((v, i) => {
      const td = el('td', 'f-' + names[i]);
      td.tailJson = v;
      td.cutSize = cutSize[names[i]];
      if (TAIL_COLUMNS[names[i]]) td.dataset.column = TAIL_COLUMNS[names[i]];
      if (v !== null && v.startsWith('"')) td.tailValue = JSON.parse(v);
      tr.appendChild(tailCell(td));
    });
    const json = message === null ? '' : compact(message);
    const pre = el('pre', null, json);
    pre.setAttribute('title', json); // the whole message on hover (a tooltip is text)
    const td = el('td', 'message', pre);
    if (typeof envelope.omittedBytes === 'number') {
      // The server keeps events over 16 KiB as a stub: say so, never show it as the
      // whole message; nor a msgType or authUser the stub holds cut (`cutFields`) as
      // the whole value.
      const cut = envelope.cutFields !== null && typeof envelope.cutFields === 'object'
        ? Object.entries(envelope.cutFields).filter(([, size]) => typeof size === 'number')
          .map(([name, size]) => name + ' (' + size + ' bytes)')
        : [];
      td.appendChild(el('p', 'omitted', 'cut: the event is ' + envelope.omittedBytes
        + ' bytes; only its msgType and authUser are shown here'
        + (cut.length > 0 ? ', and of ' + cut.join(' and ') + ' only the start' : '')
        + ' (auditrail query events has it whole)'));
    }
    tr.appendChild(td);
    tr.eventText = data;
    shownEvents.add(data);
    return tr;
  }

  function noticeRow(text) {
    const td = el('td', 'empty', text);
    td.colSpan = 9;
    return el('tr', 'notice', td);
  }

  // ---- reports ---------------------------------------------------------------------

  let reportsRun = null;

  async function loadReports() {
    if (reportsRun) reportsRun.abort();
    const controller = new AbortController();
    reportsRun = controller;
    const since = $('report-since').value;
    const by = $('report-by').value;
    const q = (report, extra) => {
      const p = new URLSearchParams({ report });
      if (since) p.set('since', since);
      for (const [k, v] of Object.entries(extra || {})) p.set(k, v);
      return api('/v1/query?' + p.toString(), controller.signal);
    };
    setStatus('report-status', 'loading…');
    $('report-status').dataset.state = 'loading';
    try {
      const [last, usage, hours, compute, apis] = await Promise.all([
        q('last-activity'), q('node-usage'), q('events-per-hour'), q('compute', { by }), q('api-answers'),
      ]);
      withMarks([last], () => renderLastActivity(last.report));
      withMarks([usage, hours], () => renderNodeUsage(usage.report, hours.report, hours.window, since));
      withMarks([compute], () => renderCompute(compute.report, by));
      withMarks([apis], () => renderApiAnswers(apis.report));
      loaded('report-status', 'window: ' + last.window);
      // Lines of the stores that are not events (torn, or written by hand) are left out
      // of the reports: said, as the CLI says it. Each report counts those it read (a
      // report of one topic reads only its folders): the most of them.
      const answers = [last, usage, hours, compute, apis];
      const unreadable = Math.max(...answers.map((a) => Number(a.unreadableLines) || 0));
      // Files listed for a report and removed before it read them (the store's retention
      // ran meanwhile): the report lacks their events, as the CLI warns. The most of them.
      const removed = Math.max(...answers.map((a) => Number(a.filesRemoved) || 0));
      // Records whose hash does not follow from the record before them in their file
      // (changed since they were stored) are in the figures: said. The most of them.
      const failing = Math.max(...answers.map((a) => Number(a.recordsFailingChain) || 0));
      // Stores held since the start (their checks failed) are not read: said, by name.
      const held = last.storesHeld || [];
      const caveats = [];
      if (held.length > 0) {
        caveats.push('left out: ' + held.map((n) => JSON.stringify(n)).join(', ')
          + (held.length === 1 ? ', a store' : ', stores') + ' held since the server started (its checks'
          + ' at start failed; see Status): their events are not in these reports');
      }
      if (failing > 0) {
        caveats.push(failing + (failing === 1 ? ' record' : ' records') + ' in these reports fail'
          + ' their store\'s hash chain (changed since they were stored); auditrail verify STORE names them');
      }
      if (unreadable > 0) {
        caveats.push(unreadable + (unreadable === 1 ? ' line' : ' lines') + ' of the stores read are'
          + ' not events (torn or foreign) and are left out of these reports; auditrail verify STORE'
          + ' names them');
      }
      if (removed > 0) {
        caveats.push(removed + (removed === 1 ? ' file was' : ' files were') + ' removed by retention'
          + ' while these reports read the stores: their events are not in the figures; refresh for'
          + ' reports of what is stored now');
      }
      if (caveats.length > 0) {
        setStatus('report-status', 'window: ' + last.window + '. ' + caveats.join('. '), true);
      }
    } catch (e) {
      if (e instanceof KeyError) $('report-status').dataset.state = 'failed';
      failed('report-status', e);
    }
  }

  function renderLastActivity(r) {
    // (The columns: the paths of the fields in the answer's JSON, as its marks name them.)
    fillTable($('last-activity-table'), (r.users || []).map((u) => [
      named(u.user, '.users[].user'), str(u.lastActivity), str(u.node, '.users[].node'),
      named(u.msgType, '.users[].msgType'), u.events, u.failedLogins,
    ]), 'no user activity in this window');
    fillTable($('failed-logins-table'), (r.failedLogins || []).map((f) => [
      f.user === null || f.user === undefined ? NO_USER : named(f.user, '.failedLogins[].user'),
      f.attempts, str(f.lastAttempt),
      (f.clientIps || f.clientIPs || []).map((ip) => listItem(ip, '.failedLogins[].clientIps[]')).join(', '),
      f.hasActivity ? 'yes' : 'no',
    ]), 'no failed logins in this window');
    // An authUser that is no string (42) is no user name: said, not dropped silently.
    const left = Number(r.invalidValues) || 0;
    say('last-activity-left-out', left === 0 ? '' : left + (left === 1 ? ' event' : ' events')
      + ' left out: their authUser is no string (a number, an object), so no user name (docs/query.md)');
    const tried = (r.failedLogins || []).reduce((s, f) => s + (Number(f.invalidValues) || 0), 0);
    say('failed-logins-left-out', tried === 0 ? '' : tried + (tried === 1 ? ' failed login' : ' failed logins')
      + ' gave an authUser that is no string (a number, an object): counted under ' + NO_USER
      + ', the name given left out (docs/query.md)');
  }

  /** Shows `text` in the paragraph `id`, hidden when there is none. */
  function say(id, text) {
    const p = $(id);
    p.hidden = text === '';
    p.textContent = text;
  }

  function renderNodeUsage(nodes, hours, window, length) {
    fillTable($('node-usage-table'), nodes.map((n) => [
      str(n.node, '[].node'), n.events, n.users, n.failedLogins, str(n.firstSeen), str(n.lastSeen),
      counts(n.topics, '[].topics{}'),
    ]), 'no events in this window');
    const some = nodes.filter((n) => Number(n.invalidValues) > 0);
    const left = some.reduce((s, n) => s + Number(n.invalidValues), 0);
    say('node-usage-left-out', left === 0 ? '' : left + (left === 1 ? ' authUser value' : ' authUser values')
      + ' left out of users as no user name (no string: a number, an object): '
      + some.map((n) => shown(String(n.node), true, '[].node') + ' ' + n.invalidValues).join(', ') + ' (docs/query.md)');
    // Events per hour, one stacked bar per hour, a colour per node.
    const nodeList = [...new Set(hours.map((h) => h.node))].sort();
    const events = new Map(); // hour (ms) → node → events
    for (const h of hours) {
      const t = Date.parse(h.hour);
      if (!Number.isFinite(t)) continue;
      if (!events.has(t)) events.set(t, new Map());
      const of = events.get(t);
      of.set(h.node, (of.get(h.node) || 0) + h.events);
    }
    const rows = hourColumns([...events.keys()], window, length).map((c) => ({
      label: c.label,
      gap: c.gap,
      segments: nodeList.map((node) => ({
        key: node, value: c.hour === undefined ? 0 : (events.get(c.hour) || new Map()).get(node) || 0,
      })),
    }));
    columnChart($('events-per-hour-chart'), 'Events per hour per node', rows, nodeList);
  }

  const HOUR = 3600000;
  // Longer runs of hours without events are one column saying how many.
  const LONG_GAP = 24;

  /** The columns of the events-per-hour chart: every hour of the window, those without
   * events too, from its start (`window` "since <time>", else the first hour with events)
   * to its end, the server's current hour (`length`, the window asked for, after its
   * start: the browser's clock may differ from the server's), else the last with events. The server answers only the hours
   * with events; drawn side by side, they hid the hours when nothing came in (a node or
   * the collection down), which is what an operator looks for. A run of more than
   * LONG_GAP such hours is one column, `gap` saying which (a clock years off would else
   * make millions of columns). */
  function hourColumns(times, window, length) {
    times.sort((a, b) => a - b);
    if (times.length === 0) return [];
    const since = /^since (\S+)/.exec(window || '');
    const start = since ? Math.floor(Date.parse(since[1]) / HOUR) * HOUR : NaN;
    const windowHours = { '24h': 24, '7d': 7 * 24, '30d': 30 * 24 }[length];
    const now = since && windowHours ? Math.floor((Date.parse(since[1]) + windowHours * HOUR) / HOUR) * HOUR : NaN;
    const label = (t) => new Date(t).toISOString().slice(5, 13).replace('T', ' ') + 'h';
    const columns = [];
    const empty = (from, to) => { // the hours from `from` up to `to`, none with events
      const n = Math.round((to - from) / HOUR);
      if (n > LONG_GAP) {
        columns.push({
          label: n + ' h, none', gap: n + ' hours without events, ' + label(from) + ' to ' + label(to - HOUR),
        });
      }
      else for (let k = 0; k < n; k++) columns.push({ label: label(from + k * HOUR) });
    };
    let next = start < times[0] ? start : times[0];
    for (const t of times) {
      empty(next, t);
      columns.push({ label: label(t), hour: t });
      next = t + HOUR;
    }
    if (now >= next) empty(next, now + HOUR);
    return columns;
  }

  /** Says under a report's table how many of the events' numbers the server left out of
   * its figures (`invalidValues`, docs/query.md "Numbers a report leaves out"), as the
   * CLI's table does: the sums shown are then those of the other values. `label(row)`:
   * the row's name as its table shows it (`groupName`), so that the group "(none)", the
   * usages without a group and the empty name read apart here as they do there. */
  function leftOut(id, rows, label, what) {
    const p = $(id);
    const some = rows.filter((r) => Number(r.invalidValues) > 0);
    const n = some.reduce((s, r) => s + Number(r.invalidValues), 0);
    p.hidden = n === 0;
    p.textContent = n === 0 ? '' : n + (n === 1 ? ' value' : ' values') + ' left out as no measurement ('
      + what + '): ' + some.map((r) => label(r) + ' ' + r.invalidValues).join(', ')
      + '; the figures above are those of the other values (docs/query.md)';
  }

  /** A compute group or API service as shown: `(none)` for usages without a project
   * key or user, or queries without a routing key (`null`), and one really named so (or
   * empty) in quotes. */
  const NO_GROUP = '(none)';
  const groupName = (g, column) => (g === null || g === undefined ? NO_GROUP
    : g === '' || g === NO_GROUP ? '"' + g.replace(/"/g, '\\"') + '"' : str(g, column));

  function renderCompute(groups, by) {
    $('compute-by-label').textContent = by;
    $('compute-group-head').textContent = by;
    fillTable($('compute-table'), groups.map((g) => [
      groupName(g.group, '[].group'), g.usages, { text: seconds(g.cpuTimeMs), cls: 'num' }, { text: seconds(g.wallTimeMs), cls: 'num' },
      counts(g.types, '[].types{}'),
    ]), 'no compute usage in this window');
    leftOut('compute-left-out', groups, (g) => groupName(g.group, '[].group'), 'startTime/endTime not a time of the years 0000 to '
      + '9999, cpuTotalMS not a number from 0 to 2^53 ms, an end before its start, or a project key or user '
      + 'that is no string, counted under (none)');
    barChart($('compute-chart'), 'CPU time per ' + by + ' (s)', groups.map((g) => ({
      label: groupName(g.group, '[].group'), segments: [{ key: 'CPU s', value: Number(g.cpuTimeMs) / 1000 }],
    })), ['CPU s'], 'stack');
  }

  function renderApiAnswers(services) {
    fillTable($('api-answers-table'), services.map((s) => {
      const l = s.latency || {};
      return [groupName(s.service, '[].service'), s.queries, counts(s.outcomes, '[].outcomes{}'),
        { text: ms(l.p50), cls: 'num' }, { text: ms(l.p90), cls: 'num' },
        { text: ms(l.p99), cls: 'num' }, { text: ms(l.max), cls: 'num' },
        pairs(s.answers, '[].answers[][]'), pairs(s.errors, '[].errors[][]')];
    }), 'no API queries in this window');
    leftOut('api-left-out', services, (s) => groupName(s.service, '[].service'), 'responseTimeMS not a number from 0 to 2^53 ms');
    const outcomes = [...new Set(services.flatMap((s) => Object.keys(s.outcomes || {})))].sort();
    barChart($('api-outcomes-chart'), 'API outcomes (queries)', services.map((s) => ({
      label: groupName(s.service, '[].service'),
      segments: outcomes.map((o) => ({ key: o, value: (s.outcomes || {})[o] || 0 })),
    })), outcomes, 'stack');
    const timed = services.filter((s) => s.latency);
    barChart($('api-latency-chart'), 'API latency (ms)', timed.map((s) => ({
      label: groupName(s.service, '[].service'),
      segments: ['p50', 'p90', 'p99'].map((p) => ({ key: p, value: s.latency[p] })),
    })), ['p50', 'p90', 'p99'], 'group');
  }

  // ---- charts: inline SVG ------------------------------------------------------------

  /** The colour of `key`: the palette's, then (past its 10) hues a golden angle
   * apart, lightness alternating, so that no two keys of a chart share one (node 11
   * took node 1's colour). */
  function colour(keys, key) {
    const i = keys.indexOf(key);
    if (i < PALETTE.length) return PALETTE[i];
    const hue = ((i - PALETTE.length) * 137.508 + 20) % 360;
    return 'hsl(' + hue.toFixed(2) + ', 60%, ' + (i % 2 ? 38 : 55) + '%)';
  }

  function niceMax(v) {
    if (!(v > 0)) return 1;
    const p = Math.pow(10, Math.floor(Math.log10(v)));
    for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= v) return m * p;
    return 10 * p;
  }

  const fmt = (v) => (Math.round(v * 10) / 10).toString();

  /** The legend of `keys` from (x, y), in lines no wider than `width`; returns the
   * height of the lines after the first. Each entry is measured as drawn (`root` is in
   * the page): on one line, the entries past the chart's width were cut off, so of 12
   * nodes 5 had a name next to their colour. A name over 24 characters is cut, with `…`
   * and the whole name as its tooltip. */
  function legend(root, keys, x, y, width) {
    let dx = x;
    let dy = 0;
    keys.forEach((k) => {
      const name = [...String(k)];
      const g = svg('g', { class: 'legend-item' });
      g.appendChild(svg('rect', { x: 0, y: -9, width: 10, height: 10, fill: colour(keys, k) }));
      const t = svg('text', { x: 14, y: 0 }, name.length > 24 ? name.slice(0, 23).join('') + '…' : k);
      if (name.length > 24) t.appendChild(svg('title', {}, k));
      g.appendChild(t);
      root.appendChild(g);
      // (0 while the view is hidden, as when another view was chosen during the load:
      // then about 7 px a character)
      const w = 14 + (t.getComputedTextLength() || Math.min(name.length, 24) * 7) + 10;
      if (dx > x && dx + w > x + width) {
        dx = x;
        dy += 16;
      }
      g.setAttribute('transform', `translate(${dx} ${y + dy})`);
      dx += w;
    });
    return dy;
  }

  /** Horizontal bars, one row per label (`r.label`: a text made for the page, as the
   * row is named in its table); segments stacked or grouped. */
  function barChart(container, title, rows, keys, mode) {
    clear(container);
    if (rows.length === 0) return;
    const labelW = 150;
    const plotW = 360;
    const band = mode === 'group' ? 8 * keys.length + 8 : 20;
    const width = labelW + plotW + 60;
    const root = svg('svg', { role: 'img' });
    container.appendChild(root); // in the page, so that the legend can be measured
    root.appendChild(svg('title', {}, title));
    root.appendChild(svg('text', { x: 0, y: 14 }, title));
    const top = 40 + (keys.length > 1 ? legend(root, keys, 0, 32, width) : 0);
    const height = top + rows.length * (band + 6) + 24;
    for (const [k, v] of Object.entries({ viewBox: `0 0 ${width} ${height}`, width, height })) root.setAttribute(k, v);
    const total = (r) => (mode === 'group'
      ? Math.max(0, ...r.segments.map((s) => Number(s.value) || 0))
      : r.segments.reduce((a, s) => a + (Number(s.value) || 0), 0));
    const max = niceMax(Math.max(0, ...rows.map(total)));
    const scale = (v) => (v / max) * plotW;
    rows.forEach((r, i) => {
      const y = top + i * (band + 6);
      const g = svg('g', { class: 'bar', 'data-label': r.label, 'data-total': fmt(total(r)) });
      // `r.label`: the row's name as its table shows it (`groupName`), shown as it is.
      const name = String(r.label);
      const label = svg('text', { x: labelW - 6, y: y + band / 2 + 4, 'text-anchor': 'end' },
        { asShown: name.length > 24 ? name.slice(0, 23) + '…' : name });
      g.appendChild(label);
      let x = labelW;
      r.segments.forEach((s, k) => {
        const v = Number(s.value) || 0;
        const w = scale(v);
        const rect = mode === 'group'
          ? svg('rect', { x: labelW, y: y + 4 + k * 8, width: w, height: 7, fill: colour(keys, s.key) })
          : svg('rect', { x, y, width: w, height: band, fill: colour(keys, s.key) });
        rect.appendChild(svg('title', {}, { asShown: `${name} — ${shown(s.key)}: ${fmt(v)}` }));
        g.appendChild(rect);
        if (mode !== 'group') x += w;
      });
      const end = labelW + (mode === 'group' ? scale(total(r)) : x - labelW);
      g.appendChild(svg('text', { x: end + 4, y: y + band / 2 + 4, class: 'muted' }, fmt(total(r))));
      root.appendChild(g);
    });
    root.appendChild(svg('line', { x1: labelW, y1: top - 2, x2: labelW, y2: height - 20, class: 'axis', stroke: '#d9dde4' }));
    root.appendChild(svg('text', { x: labelW + plotW, y: height - 6, 'text-anchor': 'end', class: 'muted' }, fmt(max)));
  }

  /** Vertical stacked columns, one per label (hours), a colour per key (node). */
  function columnChart(container, title, rows, keys) {
    clear(container);
    if (rows.length === 0) return;
    const left = 56; // room for the first column's label ("400 h, none"), drawn askew
    const plotH = 160;
    const colW = Math.max(14, Math.min(40, Math.floor(640 / rows.length)));
    const width = left + rows.length * colW + 20;
    const root = svg('svg', { role: 'img' });
    container.appendChild(root); // in the page, so that the legend can be measured
    root.appendChild(svg('title', {}, title));
    root.appendChild(svg('text', { x: 0, y: 14 }, title));
    const top = 44 + legend(root, keys, 0, 32, Math.max(width, 360));
    const height = top + plotH + 60;
    for (const [k, v] of Object.entries({ viewBox: `0 0 ${Math.max(width, 360)} ${height}`, width: Math.max(width, 360), height })) {
      root.setAttribute(k, v);
    }
    const total = (r) => r.segments.reduce((a, s) => a + s.value, 0);
    const max = niceMax(Math.max(0, ...rows.map(total)));
    root.appendChild(svg('text', { x: left - 4, y: top + 8, 'text-anchor': 'end', class: 'muted' }, fmt(max)));
    root.appendChild(svg('text', { x: left - 4, y: top + plotH, 'text-anchor': 'end', class: 'muted' }, '0'));
    root.appendChild(svg('line', { x1: left, y1: top + plotH, x2: width, y2: top + plotH, class: 'axis', stroke: '#d9dde4' }));
    rows.forEach((r, i) => {
      const x = left + i * colW + 2;
      const g = svg('g', { class: 'bar', 'data-label': r.label, 'data-total': fmt(total(r)) });
      let y = top + plotH;
      r.segments.forEach((s) => {
        const h = (s.value / max) * plotH;
        y -= h;
        const rect = svg('rect', { x, y, width: colW - 4, height: h, fill: colour(keys, s.key) });
        rect.appendChild(svg('title', {}, `${r.label} — ${s.key}: ${s.value}`));
        g.appendChild(rect);
      });
      if (r.gap) {
        // A long run of hours without events: a shaded column, always labelled.
        g.classList.add('gap');
        const shade = svg('rect', { x, y: top, width: colW - 4, height: plotH, class: 'gap', fill: '#eef0f3' });
        shade.appendChild(svg('title', {}, r.gap));
        g.appendChild(shade);
      }
      if (r.gap || i % Math.ceil(rows.length / 12) === 0) {
        g.appendChild(svg('text', {
          x: x + (colW - 4) / 2, y: top + plotH + 12, 'text-anchor': 'end',
          transform: `rotate(-45 ${x + (colW - 4) / 2} ${top + plotH + 12})`, class: 'muted',
        }, r.label));
      }
      root.appendChild(g);
    });
  }

  // ---- store and destinations ------------------------------------------------------

  let statusTimer = null;

  async function loadStatus() {
    setStatus('status-status', 'loading…');
    try {
      const [stats, checkpoints] = await Promise.all([api('/v1/stats'), api('/v1/checkpoints')]);
      renderStores(checkpoints.stores, stats.stores || {});
      renderPartitionStores(checkpoints.partitionStores || []);
      renderDestinations(stats.destinations || []);
      fillTable($('server-table'), [
        ['running since', str(stats.since)], ['events stored since start', stats.accepted],
        ['duplicates', stats.duplicates], ['refused (no destination)', stats.unrouted],
        ['nodes known', stats.nodesTracked ?? Object.keys(stats.nodes || {}).length],
      ]);
      loaded('status-status', 'as of ' + new Date().toISOString());
    } catch (e) {
      failed('status-status', e);
    }
  }

  function renderStores(stores, usage) {
    fillTable($('stores-table'), stores.map((s) => {
      const integrity = s.held
        ? { text: 'HELD: its checks at start failed; it takes no event', title: s.held, cls: 'health-bad' }
        : !s.chained
        ? { text: 'not chained (chain = false)', cls: 'health-warn' }
        : signed(s.lastCheckpoint, 'checked at start');
      const u = usage[s.name] || {};
      return [s.name, s.path + (u.bytes !== undefined ? ' (' + u.bytes + ' bytes, ' + u.files + ' files)' : ''),
        s.records, integrity, ...checkpointCells(s.lastCheckpoint)];
    }), 'this server has no store destination');
  }

  // The partition stores of the server's Kafka sources open here (and those held);
  // the table is shown only when there are some (a server without sources has none).
  function renderPartitionStores(list) {
    $('partition-stores').hidden = list.length === 0;
    fillTable($('partition-stores-table'), list.map((s) => {
      const integrity = s.held
        ? { text: 'HELD: its check at open failed; its partition is paused', title: s.held, cls: 'health-bad' }
        : s.waiting
          ? { text: 'NOT OPEN YET: ' + s.waiting, cls: 'health-warn' }
          : signed(s.lastCheckpoint, 'checked at open');
      const open = !s.held && !s.waiting;
      return [s.source, s.topic + '/' + s.partition, s.path, open ? s.records : '—', integrity,
        ...checkpointCells(s.lastCheckpoint)];
    }));
  }

  function signed(c, checked) {
    return c
      ? { text: checked + '; signed through record ' + c.seq, cls: 'health-ok' }
      : { text: 'chained; no checkpoint yet', cls: 'health-warn' };
  }

  // Last checkpoint, signed at, vouches for, key.
  function checkpointCells(c) {
    if (!c) return ['—', '—', '—', '—'];
    return ['#' + c.index + (c.deletion ? ' (deletion)' : ''), c.time,
      c.seq + ' records' + (c.treeSize !== null && c.treeSize !== undefined ? ', tree ' + c.treeSize : ''),
      { text: c.key.slice(0, 24) + '…', title: c.key, cls: 'key' }];
  }

  function renderDestinations(list) {
    fillTable($('destinations-table'), list.map((d) => {
      let health = { text: 'ok', cls: 'health-ok' };
      // A spool segment found missing at start lost events nobody can count: lostSegments.
      if (d.lost > 0 || (d.forwarding && d.forwarding.lostSegments > 0)) {
        health = { text: 'losing events', cls: 'health-bad' };
      }
      else if (d.deadLettered > 0) health = { text: 'dead-lettering', cls: 'health-bad' };
      else if (d.droppedQueueFull > 0) health = { text: 'dropping (queue full)', cls: 'health-bad' };
      else if ((d.oldestUndeliveredMs || 0) > 60000) health = { text: 'backlog', cls: 'health-warn' };
      return [d.name, d.type, health, d.accepted, d.delivered, d.queueDepth,
        d.oldestUndeliveredMs === null || d.oldestUndeliveredMs === undefined ? '—' : seconds(d.oldestUndeliveredMs) + ' s',
        d.deadLettered, d.droppedQueueFull, d.lost];
    }), 'no destinations');
  }

  // ---- views -----------------------------------------------------------------------

  function show() {
    const view = (location.hash || '#tail').slice(1);
    const name = ['tail', 'reports', 'status'].includes(view) ? view : 'tail';
    for (const v of ['tail', 'reports', 'status']) {
      $('view-' + v).hidden = v !== name;
      $('nav-' + v).classList.toggle('active', v === name);
    }
    document.body.dataset.view = name;
    if (statusTimer) clearInterval(statusTimer);
    statusTimer = null;
    if (name === 'tail') {
      if (document.hidden) pauseHidden();
      else if (!tail) startTail();
    } else {
      stopTail();
      setStatus('tail-status', 'paused (another view is shown)');
      $('tail-status').dataset.state = 'paused';
    }
    if (name === 'reports') loadReports();
    if (name === 'status') {
      loadStatus();
      statusTimer = setInterval(loadStatus, 10000);
    }
  }

  // A hidden tab holds no stream. A browser opens at most 6 connections to a server
  // over HTTP/1.1, and a stream holds one for as long as it runs: six console tabs left
  // open in the background kept a seventh from even loading the page. The tail resumes
  // when the tab is shown again.
  function pauseHidden() {
    if (tail) {
      stopTail();
      if (!interrupted) interrupted = { why: 'paused while the tab was hidden', at: new Date().toISOString() };
    }
    setStatus('tail-status', 'paused while the tab is hidden');
    $('tail-status').dataset.state = 'hidden';
  }

  function visibilityChanged() {
    if (document.body.dataset.view !== 'tail') return;
    if (document.hidden) pauseHidden();
    else if (!tail) startTail(true);
  }

  function reload() {
    stopTail();
    show();
  }

  document.addEventListener('DOMContentLoaded', () => {
    window.addEventListener('hashchange', show);
    document.addEventListener('visibilitychange', visibilityChanged);
    $('tail-filters').addEventListener('submit', (ev) => {
      ev.preventDefault();
      startTail();
    });
    $('tail-clear').addEventListener('click', () => {
      $('tail-filters').reset();
      startTail();
    });
    $('report-window').addEventListener('submit', (ev) => {
      ev.preventDefault();
      loadReports();
    });
    $('report-by').addEventListener('change', loadReports);
    $('report-since').addEventListener('change', loadReports);
    $('key-button').addEventListener('click', () => {
      $('key-panel').hidden = !$('key-panel').hidden;
    });
    $('key-form').addEventListener('submit', (ev) => {
      ev.preventDefault();
      const k = $('key-input').value.trim();
      $('key-input').value = '';
      if (k) sessionStorage.setItem(KEY_STORAGE, k);
      keyPending = true;
      const m = $('key-message');
      m.textContent = 'Checking the key…';
      m.className = 'info';
      reload();
    });
    $('key-forget').addEventListener('click', () => {
      sessionStorage.removeItem(KEY_STORAGE);
      $('key-button').textContent = 'Stats key';
      $('key-message').textContent = 'Key forgotten.';
      $('key-message').className = 'info';
      reload();
    });
    if (key()) $('key-button').textContent = 'Stats key (set)';
    show();
  });
})();
