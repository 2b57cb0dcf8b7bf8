# SNMP slot edges, recorded from real uWSGI 2.0.21 with test/vectors/record.py (--snmp):
# first and last slots, values at each type's width, wrap-around, None and other types.
CONFIG = {"snmp": True}
CASES = [
    ("first and last slot of each type", [
        ("snmp_set_counter32", 1, 1), ("snmp_set_counter32", 100, 1), ("snmp_set_counter64", 1, 1), ("snmp_set_counter64", 100, 1),
        ("snmp_set_gauge", 1, 1), ("snmp_set_gauge", 100, 1), ("snmp_incr_gauge", 100), ("snmp_decr_counter32", 1)]),
    ("values at the top of each width", [
        ("snmp_set_counter32", 1, 2 ** 32 - 1), ("snmp_set_gauge", 2, 2 ** 32 - 1), ("snmp_set_counter64", 3, 2 ** 64 - 1),
        ("snmp_set_counter64", 4, 2 ** 63), ("snmp_incr_counter32", 1), ("snmp_incr_gauge", 2), ("snmp_incr_counter64", 3)]),
    ("amounts wider than 32 bits", [
        ("snmp_incr_counter32", 5, 2 ** 32), ("snmp_incr_gauge", 6, 2 ** 32 + 1), ("snmp_decr_counter32", 7, 2 ** 40),
        ("snmp_incr_counter64", 8, 2 ** 32 - 1), ("snmp_decr_counter64", 8, 2 ** 31)]),
    ("None and other types", [
        ("snmp_set_counter32", None, 1), ("snmp_set_counter32", 1, None), ("snmp_incr_counter32", 1, None),
        ("snmp_set_gauge", 1.0, 1), ("snmp_set_counter64", 1, True), ("snmp_set_community", None), ("snmp_set_community", b"bytes")]),
    ("negative values and amounts", [
        ("snmp_set_counter32", 1, -1), ("snmp_set_counter64", 2, -1), ("snmp_incr_counter32", 3, -1), ("snmp_decr_gauge", 4, -5),
        ("snmp_incr_counter64", 5, -2)]),
    ("slot numbers at 32 bit width", [
        ("snmp_set_counter32", 2 ** 32 + 1, 1), ("snmp_set_gauge", 2 ** 31, 1), ("snmp_incr_counter64", -256)]),
    ("community lengths", [
        ("snmp_set_community", "c" * 72), ("snmp_set_community", "c" * 73), ("snmp_set_community", "\u00e9" * 36),
        ("snmp_set_community", "public", "x")]),
]
