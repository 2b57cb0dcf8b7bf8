# Misc-function edges, recorded from real uWSGI 2.0.21 with test/vectors/record.py:
# magic_table and opt, logvars (lengths, types), warnings, harakiri, log, mule and spooler
# functions without their process, and the 1.x names 2.0 no longer has.
CASES = [
    ("magic_table contents", [("attr", "magic_table")]),
    ("opt: values of flags, repeated and single options", [
        ("getitem", ("attr", "opt"), "master"), ("getitem", ("attr", "opt"), "cache2"), ("getitem", ("attr", "opt"), "queue"),
        ("len", ("attr", "opt")), ("getitem", ("attr", "opt"), "nosuch")]),
    ("logvar key and value lengths", [
        ("set_logvar", "k" * 255, "v"), ("get_logvar", "k" * 255), ("set_logvar", "x", "v" * 4096), ("len", ("get_logvar", "x")),
        ("set_logvar", "y", "w" * 65536), ("len", ("get_logvar", "y"))]),
    ("logvar empty key and value", [
        ("set_logvar", "", "v"), ("get_logvar", ""), ("set_logvar", "e", ""), ("get_logvar", "e")]),
    ("logvar types: None, bytes, numbers", [
        ("set_logvar", None, "v"), ("set_logvar", "k", None), ("set_logvar", b"bk", b"bv"), ("get_logvar", b"bk"),
        ("get_logvar", "bk"), ("set_logvar", 1, "v"), ("get_logvar", None)]),
    ("logvar many keys", [("set_logvar", "k%d" % i, "v%d" % i) for i in range(64)] + [
        ("get_logvar", "k0"), ("get_logvar", "k63")]),
    ("logvar non-ASCII", [("set_logvar", "\u00e9", "\u2603"), ("get_logvar", "\u00e9"), ("get_logvar", b"\xc3\xa9")]),
    ("logvar set twice keeps the last", [
        ("set_logvar", "a", "1"), ("set_logvar", "a", "2"), ("set_logvar", "a", "3"), ("get_logvar", "a")]),
    ("logvars do not survive the request", [
        ("set_logvar", "a", "1"), ("context", "request"), ("get_logvar", "a")]),
    ("set_warning_message lengths and types", [
        ("set_warning_message", "w"), ("set_warning_message", "w" * 80), ("set_warning_message", "w" * 81),
        ("set_warning_message", ""), ("set_warning_message", None), ("set_warning_message", b"bytes")]),
    ("set_user_harakiri values", [
        ("set_user_harakiri", 0), ("set_user_harakiri", 100), ("set_user_harakiri", 0), ("set_user_harakiri", -1),
        ("set_user_harakiri", 2 ** 32), ("set_user_harakiri", None), ("set_user_harakiri", 0)]),
    ("log of str, bytes and None", [("log", "line"), ("log", b"bytes"), ("log", None), ("log", ""), ("log",)]),
    ("setprocname types", [("setprocname", "oracle"), ("setprocname", None), ("setprocname", b"b"), ("setprocname",)]),
    ("worker and process functions at import", [
        ("context", "import"), ("worker_id",), ("total_requests",), ("request_id",), ("typeof", ("masterpid",)),
        ("len", ("workers",)), ("i_am_the_spooler",), ("mule_id",)]),
    ("workers() row keys", [("keys", ("getitem", ("workers",), 0)), ("len", ("workers",)),
        ("getitem", ("getitem", ("workers",), 0), "id"), ("getitem", ("getitem", ("workers",), 0), "status")]),
    ("request counters over two requests", [
        ("total_requests",), ("request_id",), ("context", "request"), ("total_requests",), ("request_id",),
        ("getitem", ("getitem", ("workers",), 0), "requests")]),
    ("mule functions without mules", [
        ("mule_msg", "hello"), ("mule_msg", "hello", 1), ("mule_msg", "hello", 0), ("mule_msg", "hello", "nofarm"),
        ("farm_msg", "nofarm", "x"), ("in_farm",), ("in_farm", "nofarm"), ("mule_get_msg",)]),
    ("mule_msg argument types", [
        ("mule_msg", None), ("mule_msg", b"bytes", 1), ("mule_msg", "x", None), ("mule_msg", "x", 2 ** 32), ("mule_msg",)]),
    ("spooler functions without a spooler", [
        ("spooler_jobs",), ("spooler_pid",), ("spooler_pids",), ("set_spooler_frequency", 5), ("spooler_get_task", "/tmp/x"),
        ("hasattr", "send_to_spooler")]),
    ("1.x names gone in 2.0", [
        ("hasattr", "fastfuncs"), ("hasattr", "message_manager_marshal"), ("hasattr", "grunt"), ("hasattr", "cluster"),
        ("hasattr", "send_multi_message"), ("hasattr", "send_message")]),
    ("has_hook, cl and ready", [("cl",), ("ready",), ("typeof", ("micros",)), ("len", ("mem",)), ("accepting",), ("accepting", 0)]),
    ("parsefile and extract of missing files", [
        ("parsefile", "/nonexistent/uwsgi-oracle"), ("extract", "/nonexistent/uwsgi-oracle"), ("parsefile", None),
        ("embedded_data", "nosuch")]),
    ("listen_queue ids", [("listen_queue",), ("listen_queue", 0), ("listen_queue", 1), ("listen_queue", -1)]),
    ("reload and stop arguments", [("hasattr", "reload"), ("typeof", ("attr", "reload")), ("logsize", 1)]),
]
