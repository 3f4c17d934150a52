"""A load test of `matrixcalc serve` on localhost: 8 clients for 60 s over a mix of 50
requests, every answer compared with the library's; the latencies (p50, p90, p99) go to
bench/results/web.json and to a section of bench/RESULTS.md.

    python bench/web_bench.py [--clients 8] [--seconds 60] [--workers N]   (make web-bench)

The mix is the page's own requests (`"render": true`, with the numeric check, as the page
sends them): every example the page offers (the lesson, machine-learning losses, claims
to verify, explanations) and three codegen requests. Seeds are fixed, so each answer is
deterministic; the expected answer is the same job computed in this process
(matrixcalc.web.compute.run), i.e. the library's answer without the server. A latency is
the wall time of one HTTP request, queueing for a worker included. Not part of `make test`.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT / "tests"))  # web_support: the server subprocess, post()
BEGIN, END = "<!-- web_bench: begin -->", "<!-- web_bench: end -->"


def mix() -> list[tuple[str, dict]]:
    """50 (API path, body) pairs: the page's examples and three codegen requests."""
    from matrixcalc.web.examples import examples

    out = []
    for item in examples():
        op, where = item["operation"], item["where"] or None
        if op == "verify":
            out.append(("/api/verify", {"statement": item["expression"], "where": where,
                                        "seed": 1, "render": True}))
        elif op == "explain":
            out.append(("/api/explain", {"expression": item["expression"], "wrt": item["wrt"],
                                         "where": where, "render": True}))
        else:
            out.append((f"/api/{op}", {"expression": item["expression"], "wrt": item["wrt"],
                                       "where": where, "check": True, "seed": 1,
                                       "render": True}))
    out += [("/api/codegen", {"expression": "||W2 tanh(W1 x) - y||^2", "wrt": "W1",
                              "backend": "numpy"}),
            ("/api/codegen", {"expression": "1/(2n) ||y - X w||^2", "wrt": "w",
                              "backend": "torch"}),
            ("/api/codegen", {"expression": "softmax(z)", "wrt": "z", "command": "jacobian",
                              "backend": "numpy"})]
    return out


def expected(requests: list[tuple[str, dict]]) -> list[dict]:
    """Each request's answer from the library in this process, as JSON would carry it."""
    from matrixcalc.web.app import API
    from matrixcalc.web.compute import run
    from matrixcalc.web.request import Request

    jobs = {f"/api/{name}": (job, command) for name, job, command in API}
    out = []
    for path, body in requests:
        job, command = jobs[path]
        request = Request.from_json({**body, **({"command": command} if command else {})})
        out.append(json.loads(json.dumps(run((job, request)))))
    return out


def client(url: str, k: int, requests, answers, until: float, log: list) -> None:
    from web_support import post

    i = k * 7  # clients start at different places of the mix
    while time.monotonic() < until:
        n = i % len(requests)
        started = time.perf_counter()
        status, answer = post(url, *requests[n])
        log.append((requests[n][0], time.perf_counter() - started, status,
                    answer == answers[n]))
        i += 1


def load(url: str, clients: int, seconds: float, requests, answers) -> list:
    log: list = []
    until = time.monotonic() + seconds
    threads = [threading.Thread(target=client, args=(url, k, requests, answers, until, log))
               for k in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return log


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def summary(log: list, seconds: float) -> dict:
    times = [t for _, t, _, _ in log]
    by_path: dict[str, list[float]] = {}
    for path, t, _, _ in log:
        by_path.setdefault(path, []).append(t)
    return {
        "requests": len(log), "per_second": len(log) / seconds,
        "equal": sum(ok for *_, ok in log), "not_equal": sum(not ok for *_, ok in log),
        "statuses": sorted({s for _, _, s, _ in log}),
        "p50_ms": 1000 * percentile(times, 50), "p90_ms": 1000 * percentile(times, 90),
        "p99_ms": 1000 * percentile(times, 99), "max_ms": 1000 * max(times),
        "mean_ms": 1000 * statistics.fmean(times),
        "by_path": {p: {"requests": len(ts), "p50_ms": 1000 * percentile(ts, 50),
                        "p99_ms": 1000 * percentile(ts, 99)} for p, ts in sorted(by_path.items())},
    }


def markdown(report: dict) -> str:
    s = report["summary"]
    rows = [f"| {p} | {v['requests']} | {v['p50_ms']:.0f} | {v['p99_ms']:.0f} |"
            for p, v in s["by_path"].items()]
    return "\n".join([
        BEGIN, "## Web page under load (`bench/web_bench.py`, `make web-bench`)", "",
        (f"Run on {report['date']}: `matrixcalc serve` with {report['workers']} workers on "
         f"localhost, {report['clients']} concurrent clients for {report['seconds']:.0f} s "
         f"over a mix of {report['mix']} requests (the page's examples with render and the "
         "numeric check, and codegen; the engine's caches are warm after the first round). "
         f"A latency is one HTTP request, queueing included; {report['machine']}."), "",
        "| requests | per second | equal to the library's | p50 ms | p90 ms | p99 ms | max ms |",
        "|---|---|---|---|---|---|---|",
        (f"| {s['requests']} | {s['per_second']:.1f} | {s['equal']}/{s['requests']} | "
         f"{s['p50_ms']:.0f} | {s['p90_ms']:.0f} | {s['p99_ms']:.0f} | {s['max_ms']:.0f} |"), "",
        "| endpoint | requests | p50 ms | p99 ms |", "|---|---|---|---|", *rows, "", END, ""])


def web_section(results_md: Path) -> str:
    """The web section of an existing RESULTS.md ("" if none): bench/run.py keeps it."""
    text = results_md.read_text(encoding="utf-8") if results_md.exists() else ""
    start, end = text.find(BEGIN), text.find(END)
    return "" if start < 0 or end < 0 else "\n" + text[start:end + len(END)] + "\n"


def write_section(results_md: Path, section: str) -> None:
    text = results_md.read_text(encoding="utf-8") if results_md.exists() else ""
    start, end = text.find(BEGIN), text.find(END)
    if start >= 0 and end >= 0:
        text = text[:start] + section.rstrip("\n") + text[end + len(END):]
    else:
        text = text.rstrip("\n") + "\n\n" + section
    results_md.write_text(text, encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--workers", type=int, default=0, help="default: the server's")
    parser.add_argument("--markdown", type=Path, default=HERE / "RESULTS.md")
    parser.add_argument("--out", type=Path, default=HERE / "results" / "web.json")
    args = parser.parse_args(argv)

    import os
    import platform

    from web_support import post, running_server

    from matrixcalc.web.pool import default_size

    requests = mix()
    answers = expected(requests)
    workers = args.workers or default_size()
    print(f"{len(requests)} requests in the mix; {args.clients} clients for "
          f"{args.seconds:g} s against {workers} workers")
    with running_server("--workers", str(workers), "--timeout", "30") as url:
        for path, body in requests[:workers * 2]:  # every worker warm
            post(url, path, body)
        log = load(url, args.clients, args.seconds, requests, answers)
    report = {"date": time.strftime("%Y-%m-%d %H:%M %Z"), "clients": args.clients,
              "seconds": args.seconds, "workers": workers, "mix": len(requests),
              "machine": f"{platform.processor() or platform.machine()}, "
                         f"{os.cpu_count()} logical cores, Python {platform.python_version()}",
              "summary": summary(log, args.seconds)}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    section = markdown(report)
    write_section(args.markdown, section)
    print(section)
    print(f"wrote {args.out} and {args.markdown}")
    return 0 if report["summary"]["not_equal"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
