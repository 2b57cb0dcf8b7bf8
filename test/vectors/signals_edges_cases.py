# Signal, timer and cron edges, recorded from real uWSGI 2.0.21 with test/vectors/record.py
# (one worker, no mules, no spooler). Handler sig_mark does cache_update("sig-<n>", worker_id).
CASES = [
    ("handler registered at import runs in the worker", [
        ("context", "import"), ("register_signal", 17, "worker", C("sig_mark")), ("context", "request"),
        ("signal_registered", 17), ("signal", 17), ("context", "request", 1.5), ("cache_get", "sig-17")]),
    ("handler registered at import for workers runs in the worker", [
        ("context", "import"), ("register_signal", 18, "workers", C("sig_mark")), ("context", "request"),
        ("signal", 18), ("context", "request", 1.5), ("cache_get", "sig-18")]),
    ("handler registered at import for worker1 runs in worker 1", [
        ("context", "import"), ("register_signal", 19, "worker1", C("sig_mark")), ("context", "request"),
        ("signal", 19), ("context", "request", 1.5), ("cache_get", "sig-19")]),
    ("handler registered at import, signal raised at import", [
        ("context", "import"), ("register_signal", 23, "worker", C("sig_mark")), ("signal", 23),
        ("context", "request", 1.5), ("cache_get", "sig-23")]),
    ("handler registered in the request for the first available worker", [
        ("register_signal", 24, "", C("sig_mark")), ("signal", 24), ("context", "request", 1.5), ("cache_get", "sig-24")]),
    ("handler registered later replaces the import one", [
        ("context", "import"), ("register_signal", 25, "worker", C("echo")), ("context", "request"),
        ("register_signal", 25, "worker", C("sig_mark")), ("signal", 25), ("context", "request", 1.5), ("cache_get", "sig-25")]),
    ("target mule without mules", [
        ("register_signal", 26, "mule", C("sig_mark")), ("signal_registered", 26), ("signal", 26),
        ("context", "request", 1.5), ("cache_get", "sig-26")]),
    ("target mule1 and mules without mules", [
        ("register_signal", 27, "mule1", C("sig_mark")), ("register_signal", 28, "mules", C("sig_mark")),
        ("signal", 27), ("signal", 28), ("context", "request", 1.5), ("cache_get", "sig-27"), ("cache_get", "sig-28")]),
    ("target spooler without a spooler", [
        ("register_signal", 29, "spooler", C("sig_mark")), ("signal_registered", 29), ("signal", 29),
        ("context", "request", 1.5), ("cache_get", "sig-29")]),
    ("target worker2 of one worker", [
        ("register_signal", 30, "worker2", C("sig_mark")), ("signal", 30), ("context", "request", 1.5), ("cache_get", "sig-30")]),
    ("target farm without farms", [
        ("register_signal", 31, "farm_nofarm", C("sig_mark")), ("register_signal", 32, "farm1", C("sig_mark")),
        ("signal_registered", 31), ("signal", 31)]),
    ("signal to a remote node that does not answer", [
        ("register_signal", 33, "worker", C("sig_mark")), ("signal", 33, "127.0.0.1:1"), ("signal", 33, "/tmp/uwsgi-oracle-no-such.sock"),
        ("signal_registered", 33)]),
    ("signal numbers at the edges", [
        ("register_signal", 0, "worker", C("sig_mark")), ("register_signal", 255, "worker", C("sig_mark")),
        ("signal_registered", 0), ("signal_registered", 255), ("signal", 0), ("signal", 255),
        ("context", "request", 1.5), ("cache_get", "sig-0"), ("cache_get", "sig-255")]),
    ("signal numbers at 32 and 64 bit widths", [
        ("signal_registered", 2 ** 32), ("signal", 2 ** 32 + 1), ("register_signal", 2 ** 63, "worker", C("sig_mark")),
        ("signal_registered", None), ("signal", None)]),
    ("every signal number registered", [("register_signal", i, "worker", C("echo")) for i in range(256)] + [
        ("signal_registered", 0), ("signal_registered", 255), ("register_signal", 7, "worker", C("sig_mark")),
        ("signal_registered", 7)]),
    ("handler that is not callable", [
        ("register_signal", 34, "worker", C("not_callable")), ("signal_registered", 34), ("signal", 34),
        ("register_signal", 35, "worker", None), ("signal_registered", 35)]),
    ("target as bytes and None", [
        ("register_signal", 36, b"worker", C("sig_mark")), ("register_signal", 37, None, C("sig_mark")),
        ("signal_registered", 36), ("signal_registered", 37)]),
    ("signal_received before any signal", [("signal_received",), ("signal_received", 1)]),
    ("timers: arguments at the edges", [
        ("add_timer", 40, 1), ("add_timer", 41, 0), ("add_timer", 42, -1), ("add_timer", 256, 1), ("add_timer", 43, 2 ** 31),
        ("add_timer", 44, 2 ** 32), ("add_timer", 45, 1.5), ("add_timer", None, 1), ("add_timer", 46)]),
    ("timers: the table fills up", [("add_timer", 50, 1000 + i) for i in range(64)] + [
        ("add_timer", 50, 5000), ("add_timer", 51, 5001)]),
    ("rb timers: arguments at the edges", [
        ("add_rb_timer", 60, 1000), ("add_rb_timer", 61, 1000, 3), ("add_rb_timer", 62, 1000, -1), ("add_rb_timer", 63, 0),
        ("add_rb_timer", 64, 1000, 2 ** 32), ("add_rb_timer", 256, 1000)]),
    ("rb timers: the table fills up", [("add_rb_timer", 52, 1000 + i) for i in range(64)] + [
        ("add_rb_timer", 52, 5000), ("add_timer", 53, 5000)]),
    ("cron: fields at the edges", [
        ("add_cron", 70, -1, -1, -1, -1, -1), ("add_cron", 71, 59, 23, 31, 12, 6), ("add_cron", 72, 60, 24, 32, 13, 7),
        ("add_cron", 73, -2, -3, -1, -1, -1), ("add_cron", 74, 0, 0, 0, 0, 0), ("add_cron", 75, 2 ** 32, 0, 0, 0, 0),
        ("add_cron", 256, 0, 0, 0, 0, 0), ("add_cron", 76, 1, 2, 3, 4)]),
    ("cron: the table fills up", [("add_cron", 54, i % 60, 3, -1, -1, -1) for i in range(64)] + [
        ("add_cron", 54, 1, 4, -1, -1, -1)]),
    ("file monitor: paths", [
        ("add_file_monitor", 80, "/tmp"), ("add_file_monitor", 81, "/nonexistent/uwsgi-oracle"), ("add_file_monitor", 82, ""),
        ("add_file_monitor", 83, None), ("add_file_monitor", 84, b"/tmp")]),
]
