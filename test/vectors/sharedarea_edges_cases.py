# Sharedarea (2.0 functions) edges, recorded from real uWSGI 2.0.21 with test/vectors/record.py
# (one area, id 0, 4096 bytes). First and last valid positions of every width, values outside
# a function's width, positions and ids at 32/64-bit widths, None and other types.
CASES = [
    ("first and last valid position of every read width", [
        ("sharedarea_write", 0, 0, b"\x01\x02\x03\x04\x05\x06\x07\x08"), ("sharedarea_write", 0, 4088, b"\x11\x12\x13\x14\x15\x16\x17\x18"),
        ("sharedarea_read8", 0, 0), ("sharedarea_read8", 0, 4095), ("sharedarea_read16", 0, 0), ("sharedarea_read16", 0, 4094),
        ("sharedarea_read32", 0, 0), ("sharedarea_read32", 0, 4092), ("sharedarea_read64", 0, 0), ("sharedarea_read64", 0, 4088),
        ("sharedarea_readbyte", 0, 4095), ("sharedarea_readlong", 0, 4088)]),
    ("first and last valid position of every write width", [
        ("sharedarea_write8", 0, 4095, 1), ("sharedarea_write16", 0, 4094, 0x0203), ("sharedarea_write32", 0, 4092, 0x04050607),
        ("sharedarea_write64", 0, 4088, 0x08), ("sharedarea_writebyte", 0, 0, 9), ("sharedarea_writelong", 0, 8, 10),
        ("sharedarea_read", 0, 4088, 8), ("sharedarea_read", 0, 0, 16)]),
    ("one past the last valid position of every width", [
        ("sharedarea_read8", 0, 4096), ("sharedarea_read16", 0, 4095), ("sharedarea_read32", 0, 4093),
        ("sharedarea_read64", 0, 4089), ("sharedarea_readbyte", 0, 4096), ("sharedarea_readlong", 0, 4089),
        ("sharedarea_write8", 0, 4096, 1), ("sharedarea_write16", 0, 4095, 1), ("sharedarea_write32", 0, 4093, 1),
        ("sharedarea_write64", 0, 4089, 1), ("sharedarea_writebyte", 0, 4096, 1), ("sharedarea_writelong", 0, 4089, 1)]),
    ("inc and dec at the last valid positions", [
        ("sharedarea_inc32", 0, 4092), ("sharedarea_inc32", 0, 4093), ("sharedarea_dec32", 0, 4092, 2),
        ("sharedarea_inc64", 0, 4088), ("sharedarea_inc64", 0, 4089), ("sharedarea_inc64", 0, 4092), ("sharedarea_dec64", 0, 4088, 3),
        ("sharedarea_inclong", 0, 4088), ("sharedarea_inclong", 0, 4092), ("sharedarea_read32", 0, 4092), ("sharedarea_read64", 0, 4088)]),
    ("write8 values outside a byte", [
        ("sharedarea_write8", 0, 0, 255), ("sharedarea_write8", 0, 1, 256), ("sharedarea_write8", 0, 2, -1),
        ("sharedarea_write8", 0, 3, -129), ("sharedarea_read", 0, 0, 4)]),
    ("write16 values outside 16 bits", [
        ("sharedarea_write16", 0, 0, 0xFFFF), ("sharedarea_write16", 0, 2, 0x10000), ("sharedarea_write16", 0, 4, -1),
        ("sharedarea_write16", 0, 6, 2 ** 32 + 3), ("sharedarea_read", 0, 0, 8), ("sharedarea_read16", 0, 2)]),
    ("write32 values outside 32 bits", [
        ("sharedarea_write32", 0, 0, 0xFFFFFFFF), ("sharedarea_write32", 0, 4, 2 ** 32), ("sharedarea_write32", 0, 8, -1),
        ("sharedarea_write32", 0, 12, 2 ** 33 + 5), ("sharedarea_write32", 0, 16, 2 ** 64), ("sharedarea_read", 0, 0, 20)]),
    ("write64 values outside 64 bits", [
        ("sharedarea_write64", 0, 0, 2 ** 63 - 1), ("sharedarea_write64", 0, 8, -2 ** 63), ("sharedarea_write64", 0, 16, 2 ** 63),
        ("sharedarea_write64", 0, 24, 2 ** 64 - 1), ("sharedarea_write64", 0, 32, -2 ** 63 - 1),
        ("sharedarea_read64", 0, 0), ("sharedarea_read64", 0, 8), ("sharedarea_read", 0, 16, 24)]),
    ("writelong and writebyte outside their widths", [
        ("sharedarea_writelong", 0, 0, 2 ** 63), ("sharedarea_writelong", 0, 8, -2 ** 63), ("sharedarea_writebyte", 0, 16, 2 ** 31),
        ("sharedarea_readlong", 0, 8), ("sharedarea_read", 0, 0, 17)]),
    ("inc32 and dec32 wrap at 32 bits", [
        ("sharedarea_write32", 0, 0, 0xFFFFFFFF), ("sharedarea_inc32", 0, 0), ("sharedarea_read32", 0, 0),
        ("sharedarea_dec32", 0, 0), ("sharedarea_read32", 0, 0), ("sharedarea_inc32", 0, 4, 2 ** 31 - 1), ("sharedarea_inc32", 0, 4),
        ("sharedarea_read32", 0, 4)]),
    ("inc64 and dec64 at the int64 limits", [
        ("sharedarea_write64", 0, 0, 2 ** 63 - 1), ("sharedarea_inc64", 0, 0), ("sharedarea_read64", 0, 0),
        ("sharedarea_dec64", 0, 0), ("sharedarea_read64", 0, 0), ("sharedarea_inclong", 0, 8, 2 ** 62), ("sharedarea_read64", 0, 8)]),
    ("inc and dec amounts outside their widths", [
        ("sharedarea_inc32", 0, 0, 2 ** 31), ("sharedarea_inc32", 0, 0, 2 ** 32), ("sharedarea_dec32", 0, 0, -2 ** 31 - 1),
        ("sharedarea_inc64", 0, 8, 2 ** 63), ("sharedarea_dec64", 0, 8, 2 ** 64), ("sharedarea_read32", 0, 0), ("sharedarea_read64", 0, 8)]),
    ("negative inc and dec amounts", [
        ("sharedarea_inc32", 0, 0, -5), ("sharedarea_read32", 0, 0), ("sharedarea_dec64", 0, 8, -7), ("sharedarea_read64", 0, 8),
        ("sharedarea_inclong", 0, 16, -1), ("sharedarea_read64", 0, 16)]),
    ("positions at 32 and 64 bit widths", [
        ("sharedarea_read8", 0, 2 ** 32), ("sharedarea_read", 0, 2 ** 32, 1), ("sharedarea_write8", 0, 2 ** 32, 1),
        ("sharedarea_read8", 0, 2 ** 63 - 1), ("sharedarea_read8", 0, 2 ** 64), ("sharedarea_read8", 0, -2 ** 63)]),
    ("negative positions", [
        ("sharedarea_read8", 0, -1), ("sharedarea_read", 0, -1, 1), ("sharedarea_write", 0, -1, b"x"), ("sharedarea_read64", 0, -8),
        ("sharedarea_inc64", 0, -1), ("sharedarea_writebyte", 0, -1, 1), ("sharedarea_read", 0, 0, 4)]),
    ("read lengths", [
        ("sharedarea_write", 0, 0, b"abcd"), ("sharedarea_read", 0, 0, -1), ("sharedarea_read", 0, 0, 4097),
        ("len", ("sharedarea_read", 0, 0, 4096)), ("sharedarea_read", 0, 0, 2 ** 32), ("sharedarea_read", 0, 4094, 3)]),
    ("area ids at the edges", [
        ("sharedarea_read8", 0, 0), ("sharedarea_read8", 1, 0), ("sharedarea_read8", 2 ** 31, 0), ("sharedarea_read8", 2 ** 32, 0),
        ("sharedarea_write8", 1, 0, 1), ("sharedarea_inc32", 1, 0), ("sharedarea_rlock", 1), ("sharedarea_memoryview", 1)]),
    ("None as id, position, value or length", [
        ("sharedarea_read8", None, 0), ("sharedarea_read8", 0, None), ("sharedarea_write8", 0, 0, None),
        ("sharedarea_write", 0, 0, None), ("sharedarea_read", 0, 0, None), ("sharedarea_inc64", 0, 0, None), ("sharedarea_read8", 0, 0)]),
    ("floats, bools and str as numbers", [
        ("sharedarea_read8", 0, 1.0), ("sharedarea_write8", 0, 0, 1.5), ("sharedarea_write8", 0, True, True),
        ("sharedarea_read8", 0, 1), ("sharedarea_read8", "0", 0), ("sharedarea_write32", 0, 0, "1")]),
    ("write of str, bytes and over the end", [
        ("sharedarea_write", 0, 4090, "\u00e9\u00e9\u00e9"), ("sharedarea_write", 0, 4092, b"12345"), ("sharedarea_read", 0, 4090, 6),
        ("sharedarea_write", 0, 0, b"")]),
    ("rlock, wlock and unlock", [
        ("sharedarea_rlock", 0), ("sharedarea_read8", 0, 0), ("sharedarea_unlock", 0), ("sharedarea_wlock", 0),
        ("sharedarea_write8", 0, 0, 3), ("sharedarea_unlock", 0), ("sharedarea_read8", 0, 0), ("sharedarea_unlock", 0)]),
    ("lock functions with bad ids", [
        ("sharedarea_rlock", -1), ("sharedarea_wlock", 5), ("sharedarea_unlock", 5), ("sharedarea_rlock", None)]),
    ("memoryview of the area", [
        ("len", ("sharedarea_memoryview", 0)), ("typeof", ("sharedarea_memoryview", 0))]),
    ("missing and extra arguments", [
        ("sharedarea_read8", 0), ("sharedarea_write8", 0, 0), ("sharedarea_inc32", 0), ("sharedarea_read8", 0, 0, 0),
        ("sharedarea_write", 0, 0), ("sharedarea_rlock",), ("sharedarea_read64",)]),
]
