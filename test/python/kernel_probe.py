"""Drive the inference-lab kernel through jupyter_client and print what it did, as JSON.

Usage: python kernel_probe.py [kernel_name]   (the kernelspec is found through JUPYTER_PATH)
Every scenario is recorded even when it fails, so the TypeScript test can assert on each.
"""
import json
import sys
import time
import traceback
from queue import Empty

from jupyter_client.manager import KernelManager
from jupyter_client.session import Session

KERNEL = sys.argv[1] if len(sys.argv) > 1 else "inference-lab"
TIMEOUT = 60


def collect(kc, msg_id, timeout=TIMEOUT):
    """iopub messages for msg_id until its idle status, as [{msg_type, content}]."""
    out = []
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            msg = kc.get_iopub_msg(timeout=1)
        except Empty:
            continue
        if msg["parent_header"].get("msg_id") != msg_id:
            continue
        out.append({"msg_type": msg["msg_type"], "content": msg["content"]})
        if msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
            break
    return out


def shell_reply(kc, msg_id, timeout=TIMEOUT):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            msg = kc.get_shell_msg(timeout=1)
        except Empty:
            continue
        if msg["parent_header"].get("msg_id") == msg_id:
            return {"msg_type": msg["msg_type"], "content": msg["content"]}
    return None


def run(kc, code, **kw):
    msg_id = kc.execute(code, **kw)
    reply = shell_reply(kc, msg_id)
    return {"reply": reply, "iopub": collect(kc, msg_id)}


def request(kc, method, *args, **kw):
    msg_id = getattr(kc, method)(*args, **kw)
    return {"reply": shell_reply(kc, msg_id), "iopub": collect(kc, msg_id)}


def main():
    results = {}
    km = KernelManager(kernel_name=KERNEL)
    km.start_kernel()
    kc = km.client()
    kc.start_channels()
    try:
        kc.wait_for_ready(timeout=TIMEOUT)
        results["kernel_info"] = request(kc, "kernel_info")

        cells = {
            "add": "1 + 2",
            "string": "'a' + 'b'",
            "log": 'console.log("hi")',
            "boom": 'throw new Error("boom")',
            "after_boom": "1+1",
            "mime": (
                "const chart = { toMimeBundle() { return { 'text/plain': 'a chart', "
                "'application/vnd.vegalite.v5+json': { $schema: 'https://vega.github.io/schema/vega-lite/v5.json', mark: 'bar' } }; } };\n"
                "chart"
            ),
            "async_mime": "({ toMimeBundle: async () => ({ 'text/plain': 'later', 'image/png': 'iVBORw0KGgo=' }) })",
            "compile_error": 'const n: number = "not a number";',
            "tla": "await new Promise((r) => setTimeout(r, 10));\n40 + 2",
            "rejected": "await Promise.reject(new TypeError('nope'))",
            "promise_value": "Promise.resolve(7)",
            "undefined_value": "undefined",
            "display": (
                "const bridge = (globalThis as any)[Symbol.for('inference-lab.kernel')];\n"
                "bridge.display({ 'text/plain': 'first', 'image/svg+xml': '<svg/>' }, { displayId: 'd1' });\n"
                "bridge.display({ 'text/plain': 'second' }, { displayId: 'd1', update: true });"
            ),
            "stderr": "console.error('to stderr')",
            "declare": "let counter = 10;",
            "use_decl": "counter * 2",
        }
        results["cells"] = {}
        for name, code in cells.items():
            results["cells"][name] = run(kc, code)

        # A wrongly signed request and malformed frames must be dropped without a reply.
        bad = Session(key=b"not-the-key", username="intruder")
        bad_msg = bad.msg("execute_request", {"code": "globalThis.pwned = 1; 99", "silent": False})
        bad.send(kc.shell_channel.socket, bad_msg)
        kc.shell_channel.socket.send_multipart([b"garbage"])
        kc.shell_channel.socket.send_multipart([b"<IDS|MSG>", b"sig", b"{not json", b"{}", b"{}", b"{}"])
        got = shell_reply(kc, bad_msg["header"]["msg_id"], timeout=3)
        results["bad_signature"] = {"reply": got, "after": run(kc, "typeof (globalThis as any).pwned")}

        results["complete"] = request(kc, "complete", "const abcdef = 1;\nabcd", len("const abcdef = 1;\nabcd"))
        results["inspect"] = request(kc, "inspect", "Math.max", 6)
        results["is_complete"] = request(kc, "is_complete", "function f() {")
        results["history"] = request(kc, "history", hist_access_type="tail", n=3, raw=True, output=False)
        msg = kc.session.msg("comm_info_request", {})
        kc.shell_channel.send(msg)
        results["comm_info"] = {"reply": shell_reply(kc, msg["header"]["msg_id"])}

        # Interrupts: a synchronous loop (SIGINT -> breakOnSigint) and a never-settling await.
        for name, code in [("interrupt_sync", "while (true) {}"), ("interrupt_async", "await new Promise(() => {})")]:
            msg_id = kc.execute(code)
            time.sleep(1.5)
            km.interrupt_kernel()
            results[name] = {"reply": shell_reply(kc, msg_id, timeout=20), "iopub": collect(kc, msg_id, timeout=5)}
        results["after_interrupt"] = run(kc, "1+1")
    except Exception:
        results["probe_error"] = traceback.format_exc()
    finally:
        kc.stop_channels()
        try:
            km.shutdown_kernel(now=False)
            results["shutdown"] = {"alive_after": km.is_alive()}
        except Exception:
            results["shutdown"] = {"error": traceback.format_exc()}
    print(json.dumps(results))


if __name__ == "__main__":
    main()
