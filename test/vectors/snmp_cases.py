# SNMP user-slot cases, recorded from real uWSGI 2.0.21 with ../shared/oracle/record.py:
#   cd ../shared && python3 oracle/record.py --cases <this file> --out <dir>/snmp.json
CASES = [
    ("set each type", [
        ("snmp_set_counter32", 1, 100), ("snmp_set_counter64", 2, 2 ** 40), ("snmp_set_gauge", 3, 77),
        ("snmp_set_counter32", 100, 0)]),
    ("incr and decr with and without an amount", [
        ("snmp_incr_counter32", 4), ("snmp_incr_counter32", 4, 5), ("snmp_decr_counter32", 4),
        ("snmp_incr_counter64", 5, 7), ("snmp_decr_counter64", 5, 2), ("snmp_incr_gauge", 6),
        ("snmp_decr_gauge", 6)]),
    ("slot numbers out of 1..100", [
        ("snmp_set_counter32", 0, 1), ("snmp_set_counter32", 101, 1), ("snmp_incr_gauge", 255),
        ("snmp_set_counter64", 256, 1), ("snmp_set_gauge", -1, 1), ("snmp_decr_counter64", 0)]),
    ("values that do not fit the type", [
        ("snmp_set_counter32", 1, 2 ** 32 + 5), ("snmp_set_gauge", 1, -1), ("snmp_set_counter64", 1, 2 ** 64 + 1),
        ("snmp_incr_counter64", 1, 2 ** 33)]),
    ("argument types and counts", [
        ("snmp_set_counter32", "1", 1), ("snmp_set_counter32", 1, 1.5), ("snmp_set_gauge", 1),
        ("snmp_incr_counter32",), ("snmp_set_community",), ("snmp_set_community", 5)]),
    ("community", [
        ("snmp_set_community", "public"), ("snmp_set_community", "x" * 80), ("snmp_set_community", "")]),
]
