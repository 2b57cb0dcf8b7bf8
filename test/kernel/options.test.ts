import { createEngine } from 'uwsgi-wasm';
import { KNOWN_OPTIONS, parseArgv, parseIni, configFromOptions } from 'uwsgi-wasm/engine';
import { describe, test } from 'vitest';
import { assert, throwsUwsgi } from '../lib/helpers.ts';

describe('options', () => {
  test('unknown options are refused, naming the option', () => {
    throwsUwsgi(() => createEngine({ 'no-such-option': 1 }), 'ERR_OPTION', /unknown option 'no-such-option'/);
    throwsUwsgi(() => parseArgv(['--bogus', '1']), 'ERR_OPTION', /unknown option 'bogus'/);
  });

  test('options of subsystems not built yet are accepted and recorded in opt', () => {
    const { uwsgi } = createEngine({ 'enable-metrics': true, harakiri: 30 });
    assert.equal(uwsgi.opt['enable-metrics'], true);
    assert.equal(uwsgi.opt.harakiri, '30');
    assert.equal(KNOWN_OPTIONS['enable-metrics'].built, false);
  });

  test('command line: --name value, --name=value, flags, aliases and the app path', () => {
    const { pairs, app } = parseArgv(['--processes', '3', '--locks=2', '--master', '-A', '2', 'app.js']);
    assert.deepEqual(pairs, [['workers', '3'], ['locks', '2'], ['master', true], ['sharedarea', '2']]);
    assert.equal(app, 'app.js');
    throwsUwsgi(() => parseArgv(['--locks']), 'ERR_OPTION', /needs a value/);
    throwsUwsgi(() => parseArgv(['--master=1']), 'ERR_OPTION', /is a flag/);
    throwsUwsgi(() => parseArgv(['a.js', 'b.js']), 'ERR_OPTION', /unexpected argument 'b.js'/);
  });

  test('ini: only the [uwsgi] section, comments skipped, flags', () => {
    const pairs = parseIni('[other]\nlocks = 9\n[uwsgi]\n; comment\nlocks = 3\nmaster = true\nsharedarea = pages=2\n');
    assert.deepEqual(pairs, [['locks', '3'], ['master', true], ['sharedarea', 'pages=2']]);
  });

  test('sharedarea forms: pages, pages=, size= (hex too); bad forms refused', () => {
    const cfg = configFromOptions({ sharedarea: [2, 'pages=1', 'size=100', 'size=0x20'] });
    assert.deepEqual(cfg.sharedareas, [8192, 4096, 100, 32]);
    throwsUwsgi(() => configFromOptions({ sharedarea: 'size=abc' }), 'ERR_OPTION', /expected an integer/);
    throwsUwsgi(() => configFromOptions({ sharedarea: 'color=red' }), 'ERR_OPTION', /unknown key 'color'/);
    throwsUwsgi(() => configFromOptions({ sharedarea: 'file=/tmp/x,size=10' }), 'ERR_UNSUPPORTED', /file/);
    throwsUwsgi(() => configFromOptions({ sharedarea: 0 }), 'ERR_OPTION', /outside/);
  });

  test('numeric options are range-checked', () => {
    throwsUwsgi(() => configFromOptions({ workers: 0 }), 'ERR_OPTION', /'workers': 0 is outside/);
    throwsUwsgi(() => configFromOptions({ locks: -1 }), 'ERR_OPTION', /'locks'/);
    throwsUwsgi(() => configFromOptions({ 'buffer-size': 70000 }), 'ERR_OPTION', /'buffer-size'/);
    throwsUwsgi(() => configFromOptions({ locks: [1, 2] as unknown as number }), 'ERR_OPTION', /does not take a list/);
    throwsUwsgi(() => configFromOptions({ master: 'yes' as unknown as boolean }), 'ERR_OPTION', /is a flag/);
  });

  test('opt keeps the last value of a repeated option, like uWSGI; get_option/set_option', () => {
    const { uwsgi } = createEngine({ cache2: ['name=a,items=1', 'name=b,items=2'], master: true });
    assert.equal(uwsgi.opt.cache2, 'name=b,items=2');
    assert.equal(uwsgi.opt.master, true);
    assert.equal(uwsgi.get_option('master'), true);
    assert.equal(uwsgi.get_option('nope'), undefined);
    uwsgi.set_option('custom', 'v');
    assert.equal(uwsgi.get_option('custom'), 'v');
    throwsUwsgi(() => uwsgi.set_option('x', 5 as unknown as string), 'ERR_ARG_TYPE');
  });
});
