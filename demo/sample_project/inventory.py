"""A tiny inventory module: the demo asks treellama to fill in the marked spots."""

from dataclasses import dataclass


@dataclass
class Item:
    name: str
    price: float
    quantity: int


def total_value(items: list[Item]) -> float:
    """The value of everything in stock."""
    


def cheapest(items: list[Item]) -> Item | None:
    if not items:
        return None
    return min(items, key=


def restock(items: list[Item], name: str, amount: int) -> None:
    for item in items:
        
