#!/usr/bin/env python3
"""Record this project's own vectors with the shared oracle (../shared/oracle).

The oracle's driver starts every case with one fixed uWSGI configuration. Some
areas need more (the SNMP functions exist only with --snmp; mule and spooler
targets need mules and a spooler), so a case file here may define

    CONFIG = {"snmp": True, "mules": 1}

which is added after the oracle's options (same name: replaced). Nothing else
changes: the oracle's app, DSL, value encoding and one-fresh-uWSGI-per-case
driver are used as they are, and every result comes from real uWSGI.

    python3 test/vectors/record.py test/vectors/cache_edges_cases.py   # -> test/vectors/cache_edges.json
    python3 test/vectors/record.py --port 47500 test/vectors/*_cases.py

Needs uwsgi-core and uwsgi-plugin-python3 (Debian's uWSGI 2.0.21).
"""
import argparse
import importlib.util
import os
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ORACLE = os.path.normpath(os.path.join(HERE, '..', '..', '..', 'shared', 'oracle'))


def load_oracle():
    spec = importlib.util.spec_from_file_location('oracle_record', os.path.join(ORACLE, 'record.py'))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def case_config(path):
    spec = importlib.util.spec_from_file_location('cfg_%d' % abs(hash(path)), path)
    mod = importlib.util.module_from_spec(spec)
    mod.C = lambda name: name  # CASES may name callables; only CONFIG is read here
    spec.loader.exec_module(mod)
    return getattr(mod, 'CONFIG', {})


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--port', type=int, default=47311)
    ap.add_argument('cases', nargs='+', help='case files named <area>_cases.py')
    a = ap.parse_args()
    rec = load_oracle()
    base = rec.base_config
    logdir = tempfile.mkdtemp(prefix='uwsgi-oracle-')
    print('uwsgi logs in', os.path.join(logdir, 'uwsgi.log'))
    for path in a.cases:
        path = os.path.abspath(path)
        name = os.path.basename(path)
        if not name.endswith('_cases.py'):
            sys.exit('%s: case files are named <area>_cases.py' % path)
        extra = case_config(path)
        rec.base_config = lambda port, extra=extra: {**base(port), **extra}
        out = os.path.join(os.path.dirname(path), name[:-len('_cases.py')] + '.json')
        print('[%s]' % name, flush=True)
        n = rec.record_file(path, out, a.port, logdir)
        print('%d cases -> %s' % (n, os.path.relpath(out)))


if __name__ == '__main__':
    main()
