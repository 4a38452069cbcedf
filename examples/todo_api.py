"""A small JSON API on Go 1.22 routing: ``python examples/todo_api.py``.

    curl -X POST 127.0.0.1:8080/todos -d '{"title": "write tests"}'
    curl 127.0.0.1:8080/todos/1
    curl -X DELETE 127.0.0.1:8080/todos/1
    curl -X PUT 127.0.0.1:8080/todos        # 405, with Allow: GET, HEAD, POST

Patterns carry the method and wildcards; the most specific one wins whatever the order
they were registered in, and a pattern that conflicts with another fails at start-up.
The bodies are capped (``max_bytes_handler``), and every request's time is logged.
"""

import json
import logging
import os

import nethttp

mux = nethttp.ServeMux()
todos: dict[int, dict[str, object]] = {}
next_id = [1]


async def reply(w: nethttp.ResponseWriter, status: int, value: object) -> None:
    w.header().set("Content-Type", "application/json")
    w.write_header(status)
    await w.write(json.dumps(value).encode() + b"\n")


@mux.handle_func("GET /todos")
async def list_todos(w: nethttp.ResponseWriter, r: nethttp.Request) -> None:
    await reply(w, 200, list(todos.values()))


@mux.handle_func("POST /todos")
async def create(w: nethttp.ResponseWriter, r: nethttp.Request) -> None:
    try:
        title = json.loads(await r.body.read())["title"]
    except (ValueError, KeyError, TypeError):
        await reply(w, 400, {"error": 'send {"title": "..."}'})
        return
    todo = {"id": next_id[0], "title": str(title), "done": False}
    todos[next_id[0]] = todo
    next_id[0] += 1
    w.header().set("Location", f"/todos/{todo['id']}")
    await reply(w, 201, todo)


def lookup(r: nethttp.Request) -> dict[str, object] | None:
    ident = r.path_value("id")
    return todos.get(int(ident)) if ident.isdigit() else None


@mux.handle_func("GET /todos/{id}")
async def show(w: nethttp.ResponseWriter, r: nethttp.Request) -> None:
    todo = lookup(r)
    await reply(w, 200 if todo else 404, todo or {"error": "no such todo"})


@mux.handle_func("DELETE /todos/{id}")
async def delete(w: nethttp.ResponseWriter, r: nethttp.Request) -> None:
    todo = lookup(r)
    if todo is None:
        await reply(w, 404, {"error": "no such todo"})
        return
    del todos[int(r.path_value("id"))]
    w.write_header(204)


@mux.handle_func("GET /{$}")
async def index(w: nethttp.ResponseWriter, r: nethttp.Request) -> None:
    await nethttp.redirect(w, r, "/todos", 302)


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    handler = nethttp.access_log(nethttp.max_bytes_handler(mux, 64 << 10))
    nethttp.run(handler, addr=os.environ.get("NETHTTP_ADDR", "127.0.0.1:8080"))
