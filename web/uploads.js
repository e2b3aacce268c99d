// The upload queue: files dropped or chosen together are sent one after another (the server takes
// one upload at a time), each with its own row: a progress bar, then what the server made of it.
// File names and the server's messages are written with textContent only.

const UPLOAD_ERRORS = new Set(["bad_file", "internal", "backend", "busy", "bad_message", "no_upload", "too_large"]);

export class Uploads {
  constructor(list, conn) {
    this.list = list;
    this.conn = conn;
    this.queue = [];
    this.current = null;
  }

  add(files) {
    for (const file of files) {
      const row = new Row(file, this.list);
      this.queue.push(row);
    }
    this.pump();
  }

  async pump() {
    if (this.current || !this.queue.length) return;
    const row = this.queue.shift();
    this.current = row;
    const finished = new Promise((resolve) => (row.finish = resolve));
    try {
      row.show("upload", 0, row.file.size);
      await this.conn.upload(row.file, (done, total) => row.show("upload", done, total));
      row.show("ingest", 0, row.file.size);
      await finished;
    } catch (err) {
      row.fail(err.message);
    } finally {
      this.current = null;
      this.pump();
    }
  }

  // -- what the server says about the upload in flight ----------------------------------------------

  progress(msg) {
    if (this.current) this.current.show(msg.phase, msg.done, msg.total);
  }

  uploaded(msg) {
    if (this.current) this.current.done(msg);
  }

  failed(msg) {
    if (this.current && !this.current.settled && UPLOAD_ERRORS.has(msg.code)) this.current.fail(msg.message);
  }

  offline() {
    if (this.current && !this.current.settled) this.current.fail("the connection was lost; upload it again");
  }
}

class Row {
  constructor(file, list) {
    this.file = file;
    this.settled = false;
    this.finish = () => {};
    this.li = document.createElement("li");
    this.li.dataset.state = "waiting";
    const name = document.createElement("span");
    name.className = "u-name";
    name.textContent = file.name;
    this.status = document.createElement("span");
    this.status.className = "u-status";
    this.status.textContent = "waiting";
    this.bar = document.createElement("progress");
    this.bar.max = 1;
    this.bar.value = 0;
    this.detail = document.createElement("ul");
    this.detail.className = "u-detail";
    this.li.append(name, this.status, this.bar, this.detail);
    list.append(this.li);
  }

  show(phase, done, total) {
    if (this.settled) return;
    this.li.dataset.state = phase;
    this.bar.max = Math.max(1, total);
    this.bar.value = done;
    const pct = total ? Math.round((100 * done) / total) : 100;
    this.status.textContent = phase === "upload" ? `uploading ${pct}%` : `reading ${pct}%`;
  }

  done(msg) {
    this.settled = true;
    const n = msg.sessions_total ?? msg.sessions.length;
    const old = msg.sessions.filter((s) => s.existing).length;
    const skipped = msg.skipped || [];
    const nSkipped = msg.skipped_total ?? skipped.length;
    this.li.dataset.state = "done";
    this.bar.value = this.bar.max;
    let text = `${n} session${n === 1 ? "" : "s"}${old === n && n ? ", already stored" : ""}`;
    if (nSkipped) text += ` · ${nSkipped} file${nSkipped === 1 ? "" : "s"} skipped`;
    this.status.textContent = text;
    const warnings = msg.sessions.flatMap((s) => (s.warnings || []).map((w) => `${s.source}: ${w}`));
    for (const line of [...warnings, ...skipped.map((s) => `skipped ${s.file}: ${s.reason}`)]) {
      const li = document.createElement("li");
      li.textContent = line;
      this.detail.append(li);
    }
    if (nSkipped > skipped.length) {
      const li = document.createElement("li");
      li.textContent = `… and ${nSkipped - skipped.length} more skipped`;
      this.detail.append(li);
    }
    this.finish();
  }

  fail(message) {
    this.settled = true;
    this.li.dataset.state = "error";
    this.status.textContent = "not stored";
    const li = document.createElement("li");
    li.textContent = message;
    this.detail.append(li);
    this.finish();
  }
}
