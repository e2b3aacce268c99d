// The WebSocket to the server, reconnecting with backoff, and the chunked upload over it.
// The API is documented message by message in docs/api.md.

const TOKEN_KEY = "hrviz.token";

/**
 * The access token of a shared server (docs/deploy.md), read once from the address the server
 * printed (`/?token=…`, or `/#token=…`, which never reaches any server log), kept for this tab in
 * sessionStorage, and removed from the address bar so it is not bookmarked, shared or screenshotted.
 */
export function takeToken() {
  const url = new URL(location.href);
  const hash = new URLSearchParams(url.hash.slice(1));
  const given = url.searchParams.get("token") || hash.get("token");
  if (given) {
    url.searchParams.delete("token");
    hash.delete("token");
    url.hash = hash.toString();
    history.replaceState(history.state, "", url.pathname + url.search + url.hash);
    try {
      sessionStorage.setItem(TOKEN_KEY, given);
    } catch {
      /* private mode: the token still works until the page is reloaded */
    }
    return given;
  }
  try {
    return sessionStorage.getItem(TOKEN_KEY);
  } catch {
    return null;
  }
}

export class Connection {
  constructor({ onMessage, onStatus, onOpen }) {
    this.onMessage = onMessage;
    this.onStatus = onStatus;
    this.onOpen = onOpen;
    this.ws = null;
    this.attempt = 0;
    this.timer = null;
    this.uploadWaiter = null;
    this.hello = null;
    this.token = takeToken();
    this.locked = null; // why the server refused this tab, once it has
    this.open();
  }

  url() {
    const scheme = location.protocol === "https:" ? "wss:" : "ws:";
    return `${scheme}//${location.host}/ws`; // protocol.WS_PATH: needed before any "hello"
  }

  open() {
    clearTimeout(this.timer);
    this.onStatus("connecting", this.attempt ? "Reconnecting…" : "Connecting…");
    // the token travels as a subprotocol, a header: a query string would land in proxies' access logs
    const protocols = this.token ? ["hrviz", `hrviz.token.${this.token}`] : []; // protocol.SUBPROTOCOL, TOKEN_PREFIX
    const ws = new WebSocket(this.url(), protocols);
    this.ws = ws;
    let greeted = false;
    ws.onmessage = (e) => {
      let msg;
      try {
        msg = JSON.parse(e.data);
      } catch {
        return;
      }
      if (msg.type === "hello") {
        greeted = true;
        this.hello = msg;
        this.attempt = 0;
        this.onStatus("online", "Connected");
        this.onOpen(msg);
      }
      if (msg.type === "progress" && msg.phase === "upload" && this.uploadWaiter) this.uploadWaiter.progress(msg.done);
      if (msg.type === "error" && this.uploadWaiter) this.uploadWaiter.fail(new Error(msg.message));
      this.onMessage(msg);
    };
    ws.onclose = async (e) => {
      if (this.ws !== ws) return;
      this.ws = null;
      if (this.uploadWaiter) this.uploadWaiter.fail(new Error("the connection was lost during the upload; try again"));
      if (!greeted && (await this.refused())) {
        const how = this.token ? "does not accept this tab's token" : "needs its access token";
        this.locked = `This server ${how}: open the address hrviz serve printed (…/?token=…)`;
        this.onStatus("locked", this.locked);
        return; // retrying cannot help; a new address with the token reloads the page
      }
      const delay = Math.min(10000, 500 * 2 ** this.attempt) * (0.75 + Math.random() * 0.5);
      this.attempt += 1;
      const why = e.code === 1013 ? "fell behind" : "connection lost"; // protocol.CLOSE_TOO_SLOW
      this.onStatus("offline", `Offline (${why}) — retrying in ${Math.ceil(delay / 1000)} s`);
      this.timer = setTimeout(() => this.open(), delay);
    };
  }

  /** The handshake failed: was it the token (401 on /auth) rather than a server that is down? */
  async refused() {
    try {
      const headers = this.token ? { Authorization: `Bearer ${this.token}` } : {};
      const answer = await fetch("/auth", { headers, cache: "no-store" });
      return answer.status === 401;
    } catch {
      return false;
    }
  }

  get connected() {
    return this.ws !== null && this.ws.readyState === WebSocket.OPEN && this.hello !== null;
  }

  send(msg) {
    if (!this.connected) return false;
    this.ws.send(JSON.stringify(msg));
    return true;
  }

  /** Drop the socket now (used by the "reconnect" behaviour tests and by nothing else). */
  drop() {
    if (this.ws) this.ws.close();
  }

  /** Send a File in chunks, each acknowledged before the next: progress without flooding. */
  async upload(file, onProgress) {
    if (this.locked) throw new Error(this.locked);
    if (!this.connected) throw new Error("not connected to the server yet; try again in a moment");
    const limit = this.hello.max_upload_bytes;
    if (file.size > limit) {
      const mb = (n) => `${(n / 2 ** 20).toFixed(1)} MB`;
      throw new Error(`the file is ${mb(file.size)}, over this server's upload limit of ${mb(limit)}`);
    }
    this.send({ type: "upload", name: file.name, size: file.size });
    let sent = 0;
    while (sent < file.size) {
      const slice = new Uint8Array(await file.slice(sent, sent + this.hello.chunk_bytes).arrayBuffer());
      const target = sent + slice.length;
      const acked = new Promise((resolve, reject) => {
        this.uploadWaiter = {
          progress: (done) => {
            onProgress(done, file.size);
            if (done >= target) resolve();
          },
          fail: reject,
        };
      });
      if (!this.send({ type: "chunk", data: toBase64(slice) })) {
        this.uploadWaiter = null;
        throw new Error("the connection was lost during the upload; try again");
      }
      try {
        await acked;
      } finally {
        this.uploadWaiter = null;
      }
      sent = target;
    }
  }
}

function toBase64(bytes) {
  let text = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    text += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000));
  }
  return btoa(text);
}
