# Cache edges, recorded from real uWSGI 2.0.21 with test/vectors/record.py (the oracle's
# base config: default items=100 blocksize=64, big, small items=3, lru items=4 purge_lru, tinykey).
_fill_lru = [("cache_set", k, v, 0, "lru") for k, v in (("a", b"1"), ("b", b"2"), ("c", b"3"), ("d", b"4"))]
_fill_small = [("cache_set", k, b"v", 0, "small") for k in ("a", "b", "c")]
CASES = [
    # LRU combined with the other operations
    ("lru: a get refreshes the item", _fill_lru + [
        ("cache_get", "a", "lru"), ("cache_set", "e", b"5", 0, "lru"), ("cache_keys", "lru"),
        ("cache_exists", "a", "lru"), ("cache_exists", "b", "lru")]),
    ("lru: an update refreshes the item", _fill_lru + [
        ("cache_update", "a", b"9", 0, "lru"), ("cache_set", "e", b"5", 0, "lru"), ("cache_keys", "lru"),
        ("cache_get", "a", "lru")]),
    ("lru: exists does not refresh", _fill_lru + [
        ("cache_exists", "a", "lru"), ("cache_set", "e", b"5", 0, "lru"), ("cache_keys", "lru")]),
    ("lru: a delete frees a slot without eviction", _fill_lru + [
        ("cache_del", "b", "lru"), ("cache_set", "e", b"5", 0, "lru"), ("cache_keys", "lru"),
        ("cache_set", "f", b"6", 0, "lru"), ("cache_keys", "lru")]),
    ("lru: set of a live key when full evicts nothing", _fill_lru + [
        ("cache_set", "a", b"x", 0, "lru"), ("cache_keys", "lru"), ("cache_get", "a", "lru")]),
    ("lru: update of a new key when full evicts the oldest", _fill_lru + [
        ("cache_update", "n", b"x", 0, "lru"), ("cache_keys", "lru"), ("cache_get", "n", "lru")]),
    ("lru: inc of a new key when full evicts", _fill_lru + [
        ("cache_inc", "n", 1, 0, "lru"), ("cache_keys", "lru"), ("cache_num", "n", "lru")]),
    ("lru: inc of a live counter refreshes it", [
        ("cache_inc", "a", 1, 0, "lru"), ("cache_set", "b", b"2", 0, "lru"), ("cache_set", "c", b"3", 0, "lru"),
        ("cache_set", "d", b"4", 0, "lru"), ("cache_inc", "a", 1, 0, "lru"), ("cache_set", "e", b"5", 0, "lru"),
        ("cache_keys", "lru"), ("cache_num", "a", "lru")]),
    ("lru: clear then refill", _fill_lru + [
        ("cache_clear", "lru"), ("cache_keys", "lru")] + _fill_lru + [
        ("cache_set", "e", b"5", 0, "lru"), ("cache_keys", "lru")]),
    ("lru: value over the blocksize on a full cache", _fill_lru + [
        ("cache_set", "big", b"x" * 17, 0, "lru"), ("cache_keys", "lru")]),
    ("lru: repeated evictions keep the order", _fill_lru + [
        ("cache_set", "e", b"5", 0, "lru"), ("cache_set", "f", b"6", 0, "lru"), ("cache_get", "c", "lru"),
        ("cache_set", "g", b"7", 0, "lru"), ("cache_set", "h", b"8", 0, "lru"), ("cache_keys", "lru")]),
    ("lru: expired items are swept before the next eviction", [
        ("cache_set", "a", b"1", 1, "lru"), ("cache_set", "b", b"2", 0, "lru"), ("sleep", 4.5),
        ("cache_keys", "lru"), ("cache_set", "c", b"3", 0, "lru"), ("cache_set", "d", b"4", 0, "lru"),
        ("cache_set", "e", b"5", 0, "lru"), ("cache_set", "f", b"6", 0, "lru"), ("cache_keys", "lru")]),
    ("lru: delete of the most recent then eviction", _fill_lru + [
        ("cache_del", "d", "lru"), ("cache_set", "e", b"5", 0, "lru"), ("cache_set", "f", b"6", 0, "lru"),
        ("cache_keys", "lru")]),
    # None, bytes and numbers as names and arguments
    ("None as key", [
        ("cache_get", None), ("cache_set", None, b"x"), ("cache_exists", None), ("cache_del", None),
        ("cache_update", None, b"x"), ("cache_inc", None), ("cache_keys",)]),
    ("None as value", [("cache_set", "a", None), ("cache_update", "a", None), ("cache_exists", "a")]),
    ("None as cache name is the default cache", [
        ("cache_set", "a", b"1", 0, None), ("cache_get", "a", None), ("cache_exists", "a", None),
        ("cache_get", "a"), ("cache_keys", None), ("cache_del", "a", None), ("cache_get", "a")]),
    ("None as expiry", [("cache_set", "a", b"1", None), ("cache_update", "a", b"2", None), ("cache_get", "a")]),
    ("bytes as cache name", [
        ("cache_set", "a", b"1", 0, b"big"), ("cache_get", "a", b"big"), ("cache_exists", "a", b"big"),
        ("cache_keys", b"big"), ("cache_clear", b"big"), ("cache_get", "a", "big")]),
    ("number as cache name", [("cache_get", "a", 1), ("cache_set", "a", b"1", 0, 5), ("cache_keys", 0)]),
    ("number as key or value", [
        ("cache_set", 1, b"x"), ("cache_set", "a", 7), ("cache_update", "a", 1.5), ("cache_exists", 3),
        ("cache_del", 4), ("cache_keys",)]),
    ("bool arguments", [
        ("cache_set", "a", b"1", True), ("cache_get", "a"), ("cache_inc", "n", True), ("cache_num", "n"),
        ("cache_set", True, b"x")]),
    ("float expiry and delta", [
        ("cache_set", "a", b"1", 1.5), ("cache_inc", "n", 1.5), ("cache_get", "a"), ("cache_num", "n")]),
    ("bytes key with a NUL byte", [
        ("cache_set", b"a\x00b", b"1"), ("cache_get", b"a\x00b"), ("cache_get", "a"), ("cache_keys",),
        ("cache_exists", "a\x00b")]),
    ("str key with non-ASCII on keysize=8", [
        ("cache_set", "\u00e9\u00e9\u00e9\u00e9", b"1", 0, "tinykey"), ("cache_set", "\u00e9\u00e9\u00e9\u00e9\u00e9", b"2", 0, "tinykey"),
        ("cache_keys", "tinykey")]),
    ("missing arguments of each function", [
        ("cache_exists",), ("cache_del",), ("cache_update", "a"), ("cache_inc",), ("cache_num",),
        ("cache_mul",), ("cache_div",), ("cache_dec",)]),
    ("too many arguments", [
        ("cache_get", "a", "default", 1), ("cache_set", "a", b"1", 0, "default", 1), ("cache_keys", "default", 1),
        ("cache_clear", "default", 1), ("cache_exists", "a", "default", 1)]),
    # integer widths and overflow
    ("inc by amounts wider than 32 bits", [
        ("cache_inc", "n", 2 ** 31), ("cache_num", "n"), ("cache_inc", "n", 2 ** 32), ("cache_num", "n"),
        ("cache_inc", "m", 2 ** 40), ("cache_num", "m"), ("cache_get", "m")]),
    ("inc at the int64 limits", [
        ("cache_inc", "n", 2 ** 63 - 1), ("cache_num", "n"), ("cache_inc", "n"), ("cache_num", "n"),
        ("cache_get", "n")]),
    ("inc by amounts outside int64", [
        ("cache_inc", "n", 2 ** 63), ("cache_num", "n"), ("cache_inc", "n", -2 ** 63 - 1), ("cache_inc", "n", 2 ** 64),
        ("cache_num", "n")]),
    ("dec at the int64 minimum", [
        ("cache_dec", "n", 2 ** 63 - 1), ("cache_dec", "n"), ("cache_num", "n"), ("cache_dec", "n"),
        ("cache_num", "n")]),
    ("negative deltas", [
        ("cache_inc", "n", -5), ("cache_num", "n"), ("cache_dec", "n", -7), ("cache_num", "n"),
        ("cache_mul", "n", -3), ("cache_num", "n"), ("cache_div", "n", -2), ("cache_num", "n")]),
    ("mul overflow", [
        ("cache_inc", "n", 2 ** 62), ("cache_mul", "n", 4), ("cache_num", "n"), ("cache_get", "n")]),
    ("div rounding of negatives", [
        ("cache_dec", "n", 7), ("cache_div", "n", 2), ("cache_num", "n"), ("cache_inc", "m", 7),
        ("cache_div", "m", -2), ("cache_num", "m")]),
    ("cache_num of counters and of other values", [
        ("cache_set", "a", b"\xff" * 8), ("cache_num", "a"), ("cache_set", "b", b"\x00" * 7 + b"\x80"), ("cache_num", "b"),
        ("cache_set", "c", b"1234567890"), ("cache_num", "c"), ("cache_set", "d", b""), ("cache_num", "d")]),
    ("expiry at 32 and 64 bit widths", [
        ("cache_set", "a", b"1", 2 ** 31), ("cache_set", "b", b"1", 2 ** 32), ("cache_set", "c", b"1", 2 ** 63 - 1),
        ("cache_set", "d", b"1", 2 ** 64), ("cache_set", "e", b"1", -1), ("cache_keys",)]),
    ("negative expiry", [
        ("cache_set", "a", b"1", -1), ("cache_get", "a"), ("sleep", 2.5), ("cache_get", "a"), ("cache_exists", "a")]),
    # full tables
    ("default cache: 100 items and one more", [("cache_set", "k%d" % i, b"v") for i in range(100)] + [
        ("len", ("cache_keys",)), ("cache_set", "extra", b"v"), ("cache_exists", "extra"), ("cache_exists", "k0"),
        ("cache_exists", "k98"), ("cache_exists", "k99")]),
    ("small cache full: update, inc and delete", _fill_small + [
        ("cache_update", "a", b"new", 0, "small"), ("cache_update", "z", b"new", 0, "small"),
        ("cache_inc", "n", 1, 0, "small"), ("cache_del", "b", "small"), ("cache_inc", "n", 1, 0, "small"),
        ("cache_keys", "small"), ("cache_num", "n", "small")]),
    ("small cache full: clear frees every item", _fill_small + [
        ("cache_clear", "small")] + _fill_small + [("cache_keys", "small")]),
    ("small cache full: a failed set leaves the others", _fill_small + [
        ("cache_set", "d", b"v", 0, "small"), ("cache_get", "a", "small"), ("cache_get", "c", "small"),
        ("cache_exists", "d", "small")]),
    ("small cache full: expired item swept then reused", [
        ("cache_set", "a", b"1", 1, "small"), ("cache_set", "b", b"2", 0, "small"), ("cache_set", "c", b"3", 0, "small"),
        ("cache_set", "d", b"4", 0, "small"), ("sleep", 4.5), ("cache_set", "d", b"4", 0, "small"),
        ("cache_keys", "small")]),
    # expiry combined with updates
    ("update keeps or replaces the expiry", [
        ("cache_set", "a", b"1", 1), ("cache_update", "a", b"2"), ("cache_set", "b", b"1", 1),
        ("cache_update", "b", b"2", 60), ("sleep", 4.5), ("cache_get", "a"), ("cache_get", "b")]),
    ("inc keeps a counter's expiry", [
        ("cache_inc", "n", 1, 1), ("cache_inc", "n", 1), ("cache_num", "n"), ("sleep", 4.5), ("cache_num", "n"),
        ("cache_exists", "n")]),
    ("set with expiry on a key that expired but is not swept yet", [
        ("cache_set", "a", b"1", 1), ("sleep", 1.2), ("cache_set", "a", b"2"), ("cache_get", "a")]),
    # values and keys at the limits
    ("value of exactly blocksize in small and tinykey", [
        ("cache_set", "a", b"x" * 16, 0, "small"), ("cache_set", "b", b"x" * 17, 0, "small"),
        ("cache_set", "12345678", b"y" * 16, 0, "tinykey"), ("cache_keys", "small"), ("cache_keys", "tinykey")]),
    ("update to a value over the blocksize keeps the old value", [
        ("cache_set", "a", b"short"), ("cache_update", "a", b"x" * 65), ("cache_get", "a")]),
    ("keysize=8: update and del of an 9-byte key", [
        ("cache_update", "123456789", b"a", 0, "tinykey"), ("cache_del", "123456789", "tinykey"),
        ("cache_exists", "123456789", "tinykey"), ("cache_inc", "123456789", 1, 0, "tinykey")]),
    ("clear of the default cache by name and by None", [
        ("cache_set", "a", b"1"), ("cache_clear", "default"), ("cache_keys",), ("cache_set", "b", b"2"),
        ("cache_clear", None), ("cache_keys",)]),
]
