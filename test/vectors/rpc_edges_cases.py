# RPC edges, recorded from real uWSGI 2.0.21 with test/vectors/record.py.
CASES = [
    ("register_rpc names: None, bytes, number, empty", [
        ("register_rpc", None, C("echo")), ("register_rpc", b"bname", C("echo")), ("register_rpc", 5, C("echo")),
        ("register_rpc", "", C("echo")), ("rpc_list",), ("call", b"", b"x")]),
    ("call and rpc with None arguments", [
        ("register_rpc", "echo", C("echo")), ("call", b"echo", None), ("call", None), ("rpc", None, None),
        ("rpc", None, b"echo", None), ("call", b"echo")]),
    ("argc of register_rpc at the edges", [
        ("register_rpc", "a", C("argc"), 0), ("register_rpc", "b", C("argc"), -1), ("register_rpc", "c", C("argc"), None),
        ("register_rpc", "d", C("argc"), 2 ** 32), ("rpc_list",), ("call", b"a", b"1")]),
    ("the function table fills up", [("register_rpc", "f%d" % i, C("echo")) for i in range(64)] + [
        ("register_rpc", "over", C("echo")), ("len", ("rpc_list",)), ("call", b"f63", b"last"), ("call", b"over", b"x"),
        ("register_rpc", "f0", C("upper")), ("call", b"f0", b"re")]),
    ("many arguments", [
        ("register_rpc", "argc", C("argc")), ("call", *([b"argc"] + [b"a"] * 254)), ("call", *([b"argc"] + [b"a"] * 255)),
        ("call", *([b"argc"] + [b"a"] * 256))]),
    ("large arguments and results", [
        ("register_rpc", "echo", C("echo")), ("len", ("call", b"echo", b"x" * 65000)), ("call", b"echo", b"x" * 70000),
        ("len", ("call", b"echo", b"y" * 4096))]),
    ("rpc to a node that does not answer", [
        ("register_rpc", "echo", C("echo")), ("rpc", "127.0.0.1:1", b"echo", b"x"), ("rpc", b"127.0.0.1:1", b"echo"),
        ("call", b"echo", b"still")]),
    ("rpc to a unix socket that does not exist", [
        ("rpc", "/tmp/uwsgi-oracle-no-such.sock", b"echo", b"x")]),
    ("registered at import, replaced in the worker", [
        ("context", "import"), ("register_rpc", "f", C("echo")), ("context", "request"), ("call", b"f", b"abc"),
        ("register_rpc", "f", C("upper")), ("call", b"f", b"abc"), ("rpc_list",)]),
    ("registered at import with a non-callable", [
        ("context", "import"), ("register_rpc", "nc", C("not_callable")), ("context", "request"), ("rpc_list",),
        ("call", b"nc", b"x")]),
    ("results that are not bytes", [
        ("register_rpc", "s", C("ret_str")), ("register_rpc", "i", C("ret_int")), ("register_rpc", "n", C("ret_none")),
        ("rpc", None, b"s"), ("rpc", None, b"i"), ("rpc", None, b"n"), ("rpc", "", b"s")]),
    ("name lengths around the limit", [
        ("register_rpc", "x" * 253, C("echo")), ("register_rpc", "y" * 254, C("echo")), ("register_rpc", "z" * 255, C("echo")),
        ("register_rpc", "w" * 1000, C("echo")), ("len", ("rpc_list",)), ("call", b"y" * 254, b"k"), ("call", b"z" * 255, b"k")]),
    ("a raising function leaves the table", [
        ("register_rpc", "r", C("raise")), ("call", b"r"), ("call", b"r", b"again"), ("rpc_list",)]),
    ("rpc_list arguments", [("rpc_list", 1), ("register_rpc", "a", C("echo")), ("len", ("rpc_list",))]),
]
