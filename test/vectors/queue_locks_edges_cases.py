# Queue and user-lock edges, recorded from real uWSGI 2.0.21 with test/vectors/record.py
# (queue 16 slots of 4096 bytes, --locks 4: locks 0..4).
CASES = [
    ("queue: positions at 32 and 64 bit widths", [
        ("queue_push", b"a"), ("queue_get", 2 ** 31), ("queue_get", 2 ** 32), ("queue_get", 2 ** 63 - 1),
        ("queue_get", 2 ** 64), ("queue_set", 2 ** 32, b"x"), ("queue_get", 0)]),
    ("queue: first and last valid slot", [
        ("queue_set", 0, b"first"), ("queue_set", 15, b"last"), ("queue_get", 0), ("queue_get", 15), ("queue_slot",),
        ("queue_pull_slot",), ("queue_pull",), ("queue_pop",)]),
    ("queue: None arguments", [
        ("queue_push", None), ("queue_get", None), ("queue_set", None, b"x"), ("queue_set", 0, None),
        ("queue_last", None), ("queue_slot",)]),
    ("queue: float, bool and bytes arguments", [
        ("queue_get", 1.0), ("queue_set", True, b"t"), ("queue_get", 1), ("queue_last", True), ("queue_push", bytearray(b"ba")),
        ("queue_get", b"0")]),
    ("queue: queue_last of negative and wide counts", [
        ("queue_push", b"1"), ("queue_push", b"2"), ("queue_last", -1), ("queue_last", 2 ** 32), ("queue_last", 16),
        ("queue_last", 17)]),
    ("queue: full queue then set and pull", [("queue_push", b"q%d" % i) for i in range(16)] + [
        ("queue_push", b"over"), ("queue_set", 0, b"replaced"), ("queue_pull",), ("queue_push", b"again"), ("queue_push", b"over2"),
        ("queue_pop",), ("queue_slot",), ("queue_pull_slot",)]),
    ("queue: set on an empty slot then pull and pop", [
        ("queue_set", 5, b"five"), ("queue_pull",), ("queue_pop",), ("queue_get", 5), ("queue_slot",), ("queue_pull_slot",)]),
    ("queue: pop past empty and pull past empty", [
        ("queue_push", b"a"), ("queue_pop",), ("queue_pop",), ("queue_pull",), ("queue_push", b"b"), ("queue_pull",),
        ("queue_slot",), ("queue_pull_slot",)]),
    ("queue: empty and maximal messages", [
        ("queue_push", b""), ("queue_push", b"m" * 4096), ("queue_set", 5, b""), ("queue_set", 6, b"n" * 4097),
        ("queue_get", 0), ("len", ("queue_get", 1)), ("queue_get", 6)]),
    ("queue: too many arguments", [
        ("queue_push", b"a", b"b"), ("queue_get", 0, 1), ("queue_pull", 1), ("queue_slot", 1), ("queue_last", 1, 2)]),
    ("locks: numbers at 32 and 64 bit widths", [
        ("lock", 2 ** 31), ("lock", 2 ** 32), ("is_locked", 2 ** 32), ("unlock", 2 ** 63), ("is_locked", -2 ** 31),
        ("is_locked", 0)]),
    ("locks: first and last valid lock", [
        ("lock", 0), ("lock", 4), ("is_locked", 0), ("is_locked", 4), ("unlock", 4), ("unlock", 0), ("is_locked", 0),
        ("is_locked", 4)]),
    ("locks: one past the last and negative", [
        ("lock", 5), ("is_locked", 5), ("unlock", 5), ("lock", -1), ("unlock", -1), ("is_locked", -2)]),
    ("locks: None, bool and float", [
        ("lock", None), ("is_locked", None), ("lock", True), ("is_locked", 1), ("unlock", True), ("is_locked", 1.0),
        ("unlock", 1.0)]),
    ("locks: taken at import, unlocked by the worker", [
        ("context", "import"), ("lock", 3), ("context", "request"), ("is_locked", 3), ("unlock", 3), ("is_locked", 3)]),
    # (a lock(3) now would wait for ever in uWSGI: the master still holds it, the worker's unlock did nothing)
    ("locks: unlock twice", [
        ("lock", 2), ("unlock", 2), ("unlock", 2), ("is_locked", 2), ("lock", 2), ("is_locked", 2), ("unlock", 2)]),
]
