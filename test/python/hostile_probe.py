"""Hostile requests against the inference-lab kernel, through jupyter_client; prints JSON.

Usage: python hostile_probe.py [kernel_name]. Each scenario records what came back and whether
the kernel still answers afterwards (a variable defined first must survive every one).
"""
import json
import sys
import threading
import time
import traceback

from jupyter_client.manager import KernelManager

from kernel_probe import TIMEOUT, collect, control_request, run, shell_reply

KERNEL = sys.argv[1] if len(sys.argv) > 1 else "inference-lab"


def value(result):
    for m in result["iopub"]:
        if m["msg_type"] == "execute_result":
            return m["content"]["data"].get("text/plain")
    return None


def status(result):
    return result["reply"]["content"]["status"] if result["reply"] else None


def errors(result):
    return [m["content"]["ename"] + ": " + m["content"]["evalue"] for m in result["iopub"] if m["msg_type"] == "error"]


def summary(result, elapsed=None):
    out = {"status": status(result), "value": value(result), "errors": errors(result)}
    if result["reply"] and result["reply"]["content"].get("status") == "error":
        out["reply_ename"] = result["reply"]["content"].get("ename")
    if elapsed is not None:
        out["seconds"] = elapsed
    return out


def alive(kc):
    return value(run(kc, "keep.join(',')"))


def interrupt_after(kc, seconds):
    def go():
        time.sleep(seconds)
        control_request(kc, "interrupt_request")
    t = threading.Thread(target=go, daemon=True)
    t.start()
    return t


def scenarios(kc):
    r = {}
    r["setup"] = summary(run(kc, "const keep = [1, 2, 3];"))

    # process.exit() in a cell: an error in that cell, the kernel keeps running.
    r["exit"] = summary(run(kc, "process.exit(3)"))
    r["exit_alive"] = alive(kc)

    # toMimeBundle() that loops for ever: an interrupt stops it.
    t0 = time.time()
    interrupt_after(kc, 2.0)
    res = run(kc, "({ toMimeBundle() { for (;;) {} } })")
    r["mime_loop"] = summary(res, time.time() - t0)
    r["mime_loop_alive"] = alive(kc)

    # History search with a pattern that backtracks catastrophically as a RegExp.
    run(kc, "'" + "a" * 60 + "'")
    t0 = time.time()
    msg_id = kc.history(hist_access_type="search", pattern="*a*a*a*a*a*a*a*a*a*a*a*a*a*a*b", output=False, raw=True)
    rep = shell_reply(kc, msg_id, timeout=30)
    r["history"] = {"status": rep["content"]["status"] if rep else None, "n": len(rep["content"]["history"]) if rep else None, "seconds": time.time() - t0}
    msg_id = kc.history(hist_access_type="search", pattern="*keep*", output=False, raw=True)
    rep = shell_reply(kc, msg_id)
    r["history_glob"] = [h[2] for h in rep["content"]["history"]] if rep else None

    # A correctly signed message sent twice runs once.
    run(kc, "let counter = 0;")
    msg = kc.session.msg("execute_request", {"code": "counter += 1;", "silent": False, "store_history": True, "user_expressions": {}, "allow_stdin": False, "stop_on_error": True})
    kc.shell_channel.send(msg)
    first = shell_reply(kc, msg["header"]["msg_id"])
    kc.shell_channel.send(msg)  # the same frames, the same signature: a replay
    time.sleep(1.0)
    r["replay"] = {"first": first["content"]["status"] if first else None, "counter": value(run(kc, "counter"))}

    # A signed request whose code is not a string gets an error reply.
    msg = kc.session.msg("execute_request", {"code": 123, "silent": False, "store_history": True, "user_expressions": {}, "allow_stdin": False, "stop_on_error": True})
    kc.shell_channel.send(msg)
    rep = shell_reply(kc, msg["header"]["msg_id"], timeout=20)
    r["code_not_string"] = {"status": rep["content"]["status"] if rep else None, "evalue": rep["content"].get("evalue") if rep else None}
    r["code_not_string_alive"] = alive(kc)

    # Allocation past the (lowered) tensor limit: refused, the earlier tensor intact.
    r["tf_setup"] = summary(run(kc, "import { tf, initBackend, setTensorMemoryLimit } from 'inference-lab';\nawait initBackend();\nconst small = tf.tensor1d([1, 2, 3, 4]);\nsetTensorMemoryLimit(tf.memory().numBytes + 1024);"))
    r["tf_refused"] = summary(run(kc, "const big = tf.zeros([100000]);"))
    r["tf_intact"] = value(run(kc, "setTensorMemoryLimit(null); Array.from(small.dataSync()).join(',')"))

    # An interrupted generate leaves no tensors behind.
    r["gen_setup"] = summary(run(kc, "import { loadModel } from 'inference-lab';\nconst gpt = loadModel('tiny-gpt') as any;\ngpt.generate('a', { maxTokens: 2 });\nconst before = tf.memory().numTensors;"))
    interrupt_after(kc, 2.0)
    r["gen_interrupted"] = summary(run(kc, "gpt.generate('And God said', { maxTokens: 4000 })"))
    r["gen_leaked"] = value(run(kc, "tf.memory().numTensors - before"))
    r["gen_again"] = value(run(kc, "gpt.generate('a', { maxTokens: 2, temperature: 0 }).tokens.length"))
    r["final_alive"] = alive(kc)
    return r


def main():
    km = KernelManager(kernel_name=KERNEL)
    km.start_kernel()
    kc = km.client()
    kc.start_channels()
    results = {}
    try:
        kc.wait_for_ready(timeout=TIMEOUT)
        results = scenarios(kc)
    except Exception:
        results["exception"] = traceback.format_exc()
    finally:
        results["kernel_alive_at_end"] = km.is_alive()
        kc.stop_channels()
        km.shutdown_kernel(now=True)
    print(json.dumps(results))


if __name__ == "__main__":
    main()
