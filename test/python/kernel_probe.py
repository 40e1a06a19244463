"""Drive the inference-lab kernel through jupyter_client and print what it did, as JSON.

Usage: python kernel_probe.py [kernel_name]   (the kernelspec is found through JUPYTER_PATH)
Every scenario is recorded even when it fails, so the TypeScript test can assert on each.
"""
import json
import signal
import sys
import time
import traceback
from queue import Empty

from jupyter_client.manager import KernelManager
from jupyter_client.session import Session

KERNEL = sys.argv[1] if len(sys.argv) > 1 else "inference-lab"
TIMEOUT = 60


def is_idle(msg):
    return msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle"


def collect(kc, msg_id, timeout=TIMEOUT, until=is_idle):
    """iopub messages for msg_id up to and including the first one `until` accepts (default: its
    idle status), as [{msg_type, content}]."""
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
        if until(msg):
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


def control_request(kc, msg_type, content=None, timeout=TIMEOUT):
    msg = kc.session.msg(msg_type, content or {})
    kc.control_channel.send(msg)
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            rep = kc.get_control_msg(timeout=1)
        except Empty:
            continue
        if rep["parent_header"].get("msg_id") == msg["header"]["msg_id"]:
            return {"msg_type": rep["msg_type"], "content": rep["content"]}
    return None


def interrupts(km, kc):
    """Each way to interrupt x each kind of running cell. A variable defined before must survive;
    latency_s is interrupt sent -> execute_reply (reported, not asserted).

    "control": interrupt_request on the control channel (what JupyterLab sends: the kernelspec
    says interrupt_mode "message"). "signal": SIGINT sent to the kernel process (a user's kill -INT,
    or a client configured for interrupt_mode "signal"). SIGINT cannot reach a loop that runs after
    the cell's first await (the thread never gets back to its event loop), so those cases are
    control only."""
    out = {}
    # Each cell says "started" once it runs (then loops or awaits): the interrupt is sent after
    # that line arrived, so it cannot come before the cell began.
    cases = [
        ("sync", "console.log('started');\nwhile (true) {}", ("control", "signal")),
        ("await", "console.log('started');\nawait new Promise(() => {})", ("control", "signal")),
        # A loop after an await runs outside vm's breakOnSigint: stopped by the loop checks.
        ("loop_after_await", "await new Promise((r) => setTimeout(r, 10));\nconsole.log('started');\nlet spins = 0;\nwhile (true) { spins++; }",
         ("control",)),
        # A loop inside code that was not compiled as a cell (as library code) that shows a progress
        # bar: stopped at its next draw by the display bridge.
        ("library_loop", "import * as lab from 'inference-lab';\nconst spin = new Function('bar', 'for (;;) bar.tick()');\n"
                         "await new Promise((r) => setTimeout(r, 10));\nconsole.log('started');\nspin(lab.progressBar(1e15, 'spinning'));",
         ("control",)),
    ]
    for kind, code, hows in cases:
        for how in hows:
            name = f"{how}_{kind}"
            var = f"kept_{how}_{kind}"
            run(kc, f"let {var} = 42;")
            msg_id = kc.execute(code)
            early = wait_for_stream(kc, msg_id, "started")
            beating = kc.hb_channel.is_beating()  # the heartbeat lives in the socket thread
            t0 = time.time()
            if how == "control":
                ctl = control_request(kc, "interrupt_request", timeout=10)
            else:
                ctl = None
                km.signal_kernel(signal.SIGINT)
            reply = shell_reply(kc, msg_id, timeout=20)
            latency = time.time() - t0
            iopub = early + collect(kc, msg_id, timeout=5)
            after = run(kc, f"{var} + 1")
            out[name] = {"control_reply": ctl, "reply": reply, "iopub": iopub, "latency_s": latency, "after": after,
                         "beating_while_running": beating}
    out["zombie"] = zombie(kc)
    return out


def wait_for_stream(kc, msg_id, text, timeout=TIMEOUT):
    """iopub messages of msg_id up to and including the stream output that contains `text`."""
    return collect(kc, msg_id, timeout, until=lambda m: m["msg_type"] == "stream" and text in m["content"]["text"])


def zombie(kc):
    """An interrupted cell whose loop awaits in every turn must not go on in the background. Its
    await waits for a gate that the next cell opens, so the outcome is decided by the kernel, not
    by timing: resumed, the loop counts one turn and then, at the top of its next turn, stops
    (interrupted) instead of making a new gate. Without that it would make a new gate."""
    msg_id = kc.execute("const g = globalThis as any;\ng.turns = 0;\nconsole.log('started');\n"
                        "while (true) { await new Promise((r) => (g.gate = r)); g.turns++; }")
    wait_for_stream(kc, msg_id, "started")
    ctl = control_request(kc, "interrupt_request", timeout=10)
    reply = shell_reply(kc, msg_id, timeout=20)
    collect(kc, msg_id, timeout=5)
    after = run(kc, "const gateBefore = g.gate;\ngateBefore();\nawait new Promise((r) => setImmediate(r));\n"
                    "`turns ${g.turns}, same gate ${g.gate === gateBefore}`")
    return {"control_reply": ctl, "reply": reply, "after": after}


def fuzz(kc, km, rounds=300):
    """Malformed, wrongly signed and oddly typed messages on shell and control. Counts the checks
    in between that the kernel still answered."""
    import random
    rnd = random.Random(1234)
    sess = kc.session
    shell = kc.shell_channel.socket
    control = kc.control_channel.socket

    def signed(header, parent=b"{}", metadata=b"{}", content=b"{}"):
        parts = [header, parent, metadata, content]
        parts = [p if isinstance(p, bytes) else json.dumps(p).encode() for p in parts]
        return [b"<IDS|MSG>", sess.sign(parts)] + parts

    def header(msg_type):
        h = sess.msg_header(msg_type)
        h["date"] = str(h["date"])
        return h

    types = ["execute_request", "complete_request", "inspect_request", "is_complete_request", "history_request",
             "kernel_info_request", "comm_info_request", "comm_open", "comm_msg", "comm_close", "no_such_request",
             "input_reply", "debug_request"]
    weird = [None, 1, -1, 2**70, 1.5, "", "x" * 10000, [], {}, [1, 2], {"a": None}, True, "\u0000\ud800"]
    kinds = []
    for i in range(rounds):
        kind = rnd.choice(["random_frames", "bad_signature", "bad_json", "truncated", "header_not_object",
                           "no_msg_type", "unknown_type", "wrong_types", "content_not_object", "huge", "binary"])
        t = rnd.choice(types)
        if kind == "random_frames":
            frames = [bytes(rnd.getrandbits(8) for _ in range(rnd.randint(0, 64))) for _ in range(rnd.randint(1, 8))]
        elif kind == "bad_signature":
            frames = signed(header(t), content={"code": "globalThis.__fuzzed = true"})
            frames[1] = b"0" * 64
        elif kind == "bad_json":
            frames = signed(b"{not json", b"{}", b"{}", b"{\"code\": ")
        elif kind == "truncated":
            frames = signed(header(t))[: rnd.randint(1, 5)]
        elif kind == "header_not_object":
            frames = signed(rnd.choice([b"[]", b"1", b"null", b'"s"']))
        elif kind == "no_msg_type":
            h = header(t); del h["msg_type"]
            frames = signed(h)
        elif kind == "unknown_type":
            frames = signed(header("x_" + str(rnd.getrandbits(32))))
        elif kind == "wrong_types":
            c = {k: rnd.choice(weird) for k in ("code", "cursor_pos", "silent", "store_history", "user_expressions",
                                                  "allow_stdin", "stop_on_error", "hist_access_type", "n", "start",
                                                  "stop", "pattern", "unique", "comm_id", "target_name", "data",
                                                  "detail_level", "raw", "output")}
            if t == "execute_request" and not isinstance(c["code"], (int, float)):
                c["code"] = "1"  # no code that could loop forever
            h = header(t)
            h[rnd.choice(["msg_id", "session", "username", "version"])] = rnd.choice(weird)
            frames = signed(h, parent=rnd.choice([{}, [], 1, None]), metadata=rnd.choice([{}, [], 1, None]), content=c)
        elif kind == "content_not_object":
            frames = signed(header(t), content=rnd.choice([b"[]", b"1", b"null", b'"x"']))
        elif kind == "huge":
            frames = signed(header("is_complete_request"), content={"code": "(" * 200000})
        else:
            frames = signed(header(t)) + [bytes(rnd.getrandbits(8) for _ in range(32))]
        kinds.append(kind)
        ident = [] if rnd.random() < 0.5 else [b"fuzz-%d" % i]
        (control if rnd.random() < 0.2 else shell).send_multipart(ident + frames)
    # What follows on shell queues behind them (one connection, in order).
    return {"sent": rounds, "kinds": sorted(set(kinds)), "kinds_sent": kinds, "alive": km.is_alive()}


def temp_flag():
    import os
    import tempfile
    return os.path.join(tempfile.mkdtemp(), "flag")


def wait_for_file(path, timeout=TIMEOUT):
    import os
    deadline = time.time() + timeout
    while not os.path.exists(path) and time.time() < deadline:
        time.sleep(0.02)


def live_output(kc):
    """Output printed before a synchronous loop arrives while the loop still runs: the loop runs
    until a file exists, and the file is made only once the output has been seen. Without live
    output this would wait until the deadline."""
    flag = temp_flag()
    code = ("import * as fs from 'fs';\nconsole.log('waiting for the flag');\n"
            f"while (!fs.existsSync({json.dumps(flag)})) {{}}\n'loop ended'")
    msg_id = kc.execute(code)
    early = collect(kc, msg_id, 30, until=lambda m: m["msg_type"] == "stream")
    seen = early[-1]["content"]["text"] if early and early[-1]["msg_type"] == "stream" else None
    open(flag, "w").close()
    reply = shell_reply(kc, msg_id)
    rest = collect(kc, msg_id)
    return {"seen_while_looping": seen, "reply": reply, "iopub": rest}


def heap_exhaustion():
    """A kernel with a small heap (NODE_OPTIONS=--max-old-space-size=512) runs a cell that grows the
    JS heap without end. V8 would abort the process; the memory guard stops the cell first."""
    import os
    km = KernelManager(kernel_name=KERNEL)
    km.start_kernel(env={**os.environ, "NODE_OPTIONS": "--max-old-space-size=512"})
    kc = km.client()
    kc.start_channels()
    out = {}
    try:
        kc.wait_for_ready(timeout=TIMEOUT)
        run(kc, "const before = 'still here';")
        t0 = time.time()
        out["grow"] = run(kc, "const keep: unknown[] = [];\nwhile (true) keep.push({ a: Math.random(), b: [1, 2, 3] });")
        out["seconds"] = time.time() - t0
        out["after"] = run(kc, "keep.length = 0;\nbefore")
        # The same after an await: the loop checks stop it (vm's SIGINT cannot).
        out["grow_async"] = run(kc, "await null;\nconst keep2: unknown[] = [];\nwhile (true) keep2.push({ a: Math.random(), b: [1, 2, 3] });")
        out["after_async"] = run(kc, "keep2.length = 0;\nbefore + ' again'")
        out["alive"] = km.is_alive()
        # Shut down while a synchronous loop holds the main thread (as JupyterLab's restart does):
        # the shutdown_reply must come (the socket thread interrupts the loop), and the process end.
        busy = kc.execute("console.log('started');\nwhile (true) {}")
        wait_for_stream(kc, busy, "started")
        t0 = time.time()
        out["shutdown_reply"] = control_request(kc, "shutdown_request", {"restart": False}, timeout=30)
        out["shutdown_busy_s"] = time.time() - t0
        deadline = time.time() + 30
        while km.is_alive() and time.time() < deadline:
            time.sleep(0.1)
        out["alive_after_shutdown"] = km.is_alive()
        out["exit_code"] = km.provisioner.process.poll() if km.provisioner and km.provisioner.process else None
    except Exception:
        out["error"] = traceback.format_exc()
        out["alive"] = km.is_alive()
    finally:
        kc.stop_channels()
        if km.is_alive():
            km.shutdown_kernel(now=True)
    return out


def main():
    results = {}
    km = KernelManager(kernel_name=KERNEL)
    t_start = time.time()
    km.start_kernel()
    kc = km.client()
    kc.start_channels()
    try:
        kc.wait_for_ready(timeout=TIMEOUT)
        first = run(kc, "1 + 2")
        results["startup"] = {"first_result_s": time.time() - t_start, "first": first}
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
            "uncloneable": "({ toMimeBundle() { return { 'text/plain': 'f', 'application/json': { a: 1, f() { return 2; } } }; } })",
            "display": (
                "const bridge = (globalThis as any)[Symbol.for('inference-lab.kernel')];\n"
                "bridge.display({ 'text/plain': 'first', 'image/svg+xml': '<svg/>' }, { displayId: 'd1' });\n"
                "bridge.display({ 'text/plain': 'second' }, { displayId: 'd1', update: true });"
            ),
            "stderr": "console.error('to stderr')",
            "declare": "let counter = 10;",
            "use_decl": "counter * 2",
            # Shorthand properties naming an earlier cell's variable (tslab alone: "counter is not defined").
            "use_decl_shorthand": "const wrapped = { counter };\nJSON.stringify([wrapped, { counter, doubled: counter * 2 }])",
            # Renaming destructuring of an earlier cell's object (tslab alone: "Identifier 'exports' has already been declared").
            "destructure_rename": "const { counter: renamed } = wrapped;\nlet total = 0;\nfor (const k of [1, 2]) { const { counter: c } = wrapped; total += c * k; }\n[renamed, total]",
            "use_renamed": "renamed + 1",
            # A compile error after a shorthand property still points at the column as typed.
            "shorthand_compile_error": "const w2 = { counter }; const s: string = 1;",
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

        results["is_complete_all"] = {
            code: request(kc, "is_complete", code)["reply"]
            for code in ["1 + 1", "function f() {", "foo())", "}", "const a = [1, 2)]", "`${1}`"]
        }
        results["user_expressions"] = run(kc, "const ue = 5;", user_expressions={"double": "ue * 2", "bad": "nope_not_defined"})
        results["history_search"] = request(kc, "history", hist_access_type="search", pattern="counter*", raw=True, output=False)
        results["history_range"] = request(kc, "history", hist_access_type="range", session=0, start=1, stop=3, raw=True, output=True)

        # Comms: a frontend opening a comm to a target the kernel does not have.
        comm = kc.session.msg("comm_open", {"comm_id": "c-123", "target_name": "jupyter.widget", "data": {}})
        kc.shell_channel.send(comm)
        results["comm_open"] = {"iopub": collect(kc, comm["header"]["msg_id"])}
        msg = kc.session.msg("comm_info_request", {"target_name": "jupyter.widget"})
        kc.shell_channel.send(msg)
        results["comm_info_target"] = {"reply": shell_reply(kc, msg["header"]["msg_id"])}
        results["after_comm"] = run(kc, "1+1")

        # Run All after an error: requests queued behind the failing cell are aborted. The first
        # cell fails only once the probe has sent all three (a flag file it writes after them),
        # so on a loaded machine the later two are surely queued, as in a real Run All.
        flag = temp_flag()
        first = ("import * as fs from 'fs';\n"
                 f"while (!fs.existsSync({json.dumps(flag)})) {{}}\n"
                 "throw new Error('first fails')")
        ids = [kc.execute(c) for c in (first, "globalThis.ranAfterError = 1", "2 + 2")]
        open(flag, "w").close()
        results["abort_queue"] = {"replies": [shell_reply(kc, i) for i in ids]}
        for i in ids:
            collect(kc, i)
        results["after_abort"] = run(kc, "typeof (globalThis as any).ranAfterError")
        # ... and with stop_on_error=False they run.
        ids = [kc.execute("throw new Error('fails, but go on')", stop_on_error=False), kc.execute("3 + 3")]
        results["no_abort"] = {"replies": [shell_reply(kc, i) for i in ids]}
        for i in ids:
            collect(kc, i)

        # IPython-style help: `name?` / `?name` answers with a pager payload, as ipykernel does.
        results["pager"] = run(kc, "Math.max?")
        results["pager_prefix"] = run(kc, "?Math.min")
        results["pager_unknown"] = run(kc, "no_such_name_here?")

        # Survival.
        results["survival"] = {
            "throws": run(kc, "function deep(n: number): number { return deep(n + 1); }\ndeep(0)"),
            "after_throws": run(kc, "1+1"),
        }
        # After the cell finished, a timer rejects a promise / throws. It first makes a file, and
        # the next cell is sent once the file exists: the kernel handles the timer (and the
        # rejection, at the end of that same task) before it reads the next request.
        for name, failure in (("late_rejection", "Promise.reject(new Error('late rejection'))"),
                              ("late_throw", "throw new Error('timer threw')")):
            flag = temp_flag()
            results["survival"][name] = run(
                kc, f"import * as fs from 'fs';\nsetTimeout(() => {{ fs.writeFileSync({json.dumps(flag)}, ''); {failure}; }}, 10);\n'scheduled'")
            wait_for_file(flag)
            results["survival"]["after_" + name] = run(kc, "'next cell'")
        results["survival"]["alloc_arraybuffer"] = run(kc, "const chunks: ArrayBuffer[] = [];\nfor (let i = 0; i < 64; i++) chunks.push(new ArrayBuffer(2 ** 40));")
        results["survival"]["alloc_string"] = run(kc, "let s = 'x';\nwhile (true) s = s + s;")
        results["survival"]["alloc_typed"] = run(kc, "(() => {\n  const grow: Float64Array[] = [];\n  for (let n = 2 ** 20; ; n *= 4) grow.push(new Float64Array(n));\n})()")
        results["survival"]["after_alloc"] = run(kc, "chunks.length + 1")
        t0 = time.time()
        mb = run(kc, "console.log('x'.repeat(1 << 20)); 'printed'")
        mb_text = sum(len(m["content"]["text"]) for m in mb["iopub"] if m["msg_type"] == "stream")
        results["survival"]["megabyte"] = {"reply": mb["reply"], "stream_chars": mb_text, "seconds": time.time() - t0,
                                            "messages": len(mb["iopub"])}
        results["survival"]["after_megabyte"] = run(kc, "1+1")
        results["survival"]["live_output"] = live_output(kc)

        results["fuzz"] = fuzz(kc, km)
        results["after_fuzz"] = run(kc, "typeof (globalThis as any).__fuzzed + ' ' + (40 + 2)")
        results["after_fuzz_info"] = request(kc, "kernel_info")
        results["after_fuzz_control"] = control_request(kc, "kernel_info_request")
        results["after_fuzz_hb"] = kc.hb_channel.is_beating()

        results["heap"] = heap_exhaustion()
        results["interrupts"] = interrupts(km, kc)
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
