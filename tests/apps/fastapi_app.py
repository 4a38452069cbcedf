"""A FastAPI application for the CLI tests: path/query parameters, a JSON model, a dependency."""

from __future__ import annotations

from fastapi import Depends, FastAPI, Header, HTTPException
from pydantic import BaseModel

app = FastAPI()


class Item(BaseModel):
    name: str
    price: float
    tags: list[str] = []


def token(x_token: str = Header(default="")) -> str:
    if x_token != "secret":
        raise HTTPException(status_code=401, detail="bad token")
    return x_token


@app.get("/items/{item_id}")
async def read_item(item_id: int, q: str | None = None) -> dict[str, object]:
    return {"item_id": item_id, "q": q}


@app.post("/items", status_code=201)
async def create_item(item: Item, _: str = Depends(token)) -> dict[str, object]:
    return {"name": item.name, "total": item.price * 2, "tags": item.tags}


@app.get("/sync")
def sync_route() -> dict[str, str]:
    return {"ran": "in a thread"}
