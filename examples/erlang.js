// An app that talks to Erlang. Run it with an `erl` beside it (both need the same cookie):
//   epmd -daemon                   # the name server; `erl` starts one by itself too
//   npx uwsgi-wasm --workers 2 --erlang js --erlang-cookie secret examples/erlang.js
//   erl -sname e1 -setcookie secret
//   (e1@host)1> rpc:call('js@host', any, hello, [<<"world">>]).
//   <<"hello world from worker 2">>
//   (e1@host)2> {jsproc, 'js@host'} ! {self(), ping}, flush().
//   Shell got {pong,1}
//   (e1@host)3> rpc:call('js@host', any, ask_erlang, [<<"e1@host">>]).
//   <<"erlang:length([1,2,3]) is 3; lists:reverse/1 gave [3,2,1]">>
// (`host` is this machine's short host name, as `erl -sname` shows it.)
import uwsgi, { Atom, Tuple } from 'uwsgi-wasm';

const enc = (s) => new TextEncoder().encode(s);
const dec = (b) => new TextDecoder().decode(b);

// rpc:call from Erlang lands in the uWSGI RPC table, as in uWSGI's erlang plugin.
uwsgi.register_rpc('hello', (who) => enc(`hello ${dec(who)} from worker ${uwsgi.worker_id()}`));

// ...and can make this worker call back into Erlang through the master's node.
uwsgi.register_rpc('ask_erlang', async (node) => {
  const length = await uwsgi.erlang_rpc(dec(node), 'erlang', 'length', [[1, 2, 3]]);
  const reversed = await uwsgi.erlang_rpc(dec(node), 'lists', 'reverse', [[1, 2, 3]]);
  return enc(`erlang:length([1,2,3]) is ${length}; lists:reverse/1 gave [${reversed.join(',')}]`);
});

// Messages to {jsproc, 'js@host'}: both workers register the name, so they take turns.
await uwsgi.erlang_register_process('jsproc', (message, sender) => {
  const [from] = message; // {From, Msg}: a Tuple is iterable
  return uwsgi.erlang_send_message(sender.connection, from, new Tuple(Atom.of('pong'), uwsgi.worker_id()));
});
