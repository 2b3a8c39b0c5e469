"""The tutorial's WSGI application, served by CPython for scripts/bench.ts.

    python3 scripts/bench_app.py wsgiref|gunicorn|waitress

Binds 127.0.0.1 on a free port, prints "PORT <n>" on stdout once it
listens, and serves until killed. The application is the Python tutorial's
own, byte for byte the answer of the TypeScript rows.

  wsgiref   wsgiref.simple_server.make_server, as the tutorial runs it
            (one request at a time; HTTP/1.0, a connection per request; an
            access line per request on stderr), with the listen backlog
            raised from socketserver's 5 to 1024 so that wrk's 32
            connections are queued rather than dropped
  gunicorn  gunicorn's sync worker, one worker (a connection per request;
            no access log, gunicorn's default)
  waitress  waitress.serve's server with its defaults (4 threads,
            keep-alive; no access log)
"""

import sys


def app(env, start_response):
    start_response('200 OK', [('Content-Type', 'text/plain; charset=utf-8')])
    return ['¡Hola, mundo!'.encode('utf-8')]


def ready(port):
    print(f"PORT {port}", flush=True)


def serve_wsgiref():
    from wsgiref.simple_server import WSGIServer, make_server

    class Server(WSGIServer):
        request_queue_size = 1024

    server = make_server('127.0.0.1', 0, app, server_class=Server)
    ready(server.server_port)
    server.serve_forever()


def serve_gunicorn():
    from gunicorn.app.base import BaseApplication

    class Application(BaseApplication):
        def load_config(self):
            self.cfg.set('bind', '127.0.0.1:0')
            self.cfg.set('workers', 1)
            self.cfg.set('worker_class', 'sync')
            self.cfg.set(
                'when_ready',
                lambda arbiter: ready(
                    arbiter.LISTENERS[0].sock.getsockname()[1]),
            )

        def load(self):
            return app

    Application().run()


def serve_waitress():
    from waitress.server import create_server

    server = create_server(app, host='127.0.0.1', port=0)
    ready(server.effective_port)
    server.run()


SERVERS = {
    'wsgiref': serve_wsgiref,
    'gunicorn': serve_gunicorn,
    'waitress': serve_waitress,
}

if __name__ == '__main__':
    if len(sys.argv) != 2 or sys.argv[1] not in SERVERS:
        sys.exit(f"usage: {sys.argv[0]} {'|'.join(SERVERS)}")
    SERVERS[sys.argv[1]]()
