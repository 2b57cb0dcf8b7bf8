# Mule and farm targets with their processes, recorded from real uWSGI 2.0.21 with
# test/vectors/record.py: two plain mules, farm f1 = mules 1 and 2.
CONFIG = {"mules": 2, "farm": "f1:1,2"}
CASES = [
    ("mule_msg to each target", [
        ("mule_msg", "to any"), ("mule_msg", "to 1", 1), ("mule_msg", "to 2", 2), ("mule_msg", "to f1", "f1"),
        ("mule_msg", "to 3", 3), ("mule_msg", "to nofarm", "nofarm"), ("mule_msg", "to -1", -1)]),
    ("farm_msg and in_farm", [
        ("farm_msg", "f1", "x"), ("farm_msg", "nofarm", "x"), ("in_farm",), ("in_farm", "f1"), ("mule_id",)]),
    ("register_signal targets with mules and a farm", [
        ("register_signal", 1, "mule", C("sig_mark")), ("register_signal", 2, "mule1", C("sig_mark")),
        ("register_signal", 3, "mule2", C("sig_mark")), ("register_signal", 4, "mule3", C("sig_mark")),
        ("register_signal", 5, "mules", C("sig_mark")), ("register_signal", 6, "farm_f1", C("sig_mark")),
        ("register_signal", 7, "farm1", C("sig_mark")), ("register_signal", 8, "farm2", C("sig_mark")),
        ("register_signal", 9, "farm_nofarm", C("sig_mark")),
        ("signal_registered", 1), ("signal_registered", 4), ("signal_registered", 9)]),
    ("numproc and workers with mules", [("attr", "numproc"), ("len", ("workers",)), ("mule_id",)]),
]
