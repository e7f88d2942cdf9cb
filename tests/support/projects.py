"""A tiny git project with a failing test (calc.py), for agent tests of every tier."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from agent.loop.tool_calls import ToolCall

CALC = "def add(a, b):\n    return a - b\n"
TEST_CALC = "from calc import add\n\n\ndef test_add():\n    assert add(2, 3) == 5\n"
TEST_COMMAND = f"{sys.executable} -m pytest -q -p no:cacheprovider"


def write_fix_add_script(path: Path) -> Path:
    """The replies of a scripted agent model (for editor tests, where its words don't matter)
    that fixes make_repo's add(), runs the tests and finishes."""
    replies = [
        ToolCall("", "edit_file",
                 {"path": "calc.py", "old": "return a - b", "new": "return a + b"}),
        ToolCall("", "run_tests", {}),
        ToolCall("", "finish", {"summary": "add() adds"}),
    ]  # fmt: skip
    path.write_text(json.dumps([reply.render() for reply in replies]))
    return path


def git(root: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(root), *args], capture_output=True, text=True, check=True
    ).stdout


def commit_all(root: Path) -> None:
    """A new git repository at root, holding everything in it, committed."""
    git(root, "init", "-q")
    git(root, "-c", "user.email=t@example.com", "-c", "user.name=t", "add", "-A")
    git(root, "-c", "user.email=t@example.com", "-c", "user.name=t", "commit", "-q", "-m", "init")


def make_repo(root: Path) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "calc.py").write_text(CALC)
    (root / "test_calc.py").write_text(TEST_CALC)
    (root / ".gitignore").write_text("__pycache__/\n.env\n")
    commit_all(root)
    return root


# A shop whose discount code "STAFF" crashes checkout with ZeroDivisionError: the bug is in
# pricing.apply_discount, among look-alike pricing functions; no test captures it, and the
# instruction names nothing. What the user has is a screenshot of the traceback.
PRICING = '''"""Prices: discounts, taxes, shipping and rounding."""

RATES = {"SAVE10": 0.9, "HALF": 0.5, "STAFF": 0.0}
TAX_RATES = {"DE": 0.19, "FR": 0.2, "US": 0.07}
SHIPPING = {"standard": 4.99, "express": 12.5}


def round_price(value):
    """Rounds to cents, half up."""
    return int(value * 100 + 0.5) / 100


def apply_discount(subtotal, code):
    """The subtotal after the discount code's rate (the share of the price that is paid)."""
    if code not in RATES:
        return subtotal
    return subtotal / RATES[code]


def apply_tax(subtotal, country):
    """The subtotal with the country's value added tax."""
    rate = TAX_RATES.get(country, 0.0)
    return subtotal * (1 + rate)


def shipping_cost(method, subtotal):
    """Shipping is free from 50 on; otherwise the method's price."""
    if subtotal >= 50:
        return 0.0
    return SHIPPING.get(method, SHIPPING["standard"])


def unit_price(total, quantity):
    """The price of one item."""
    if quantity <= 0:
        raise ValueError("quantity must be positive")
    return total / quantity


def price_breakdown(subtotal, code, country, method):
    """Every step from subtotal to total, for the receipt."""
    discounted = apply_discount(subtotal, code)
    taxed = apply_tax(discounted, country)
    shipping = shipping_cost(method, taxed)
    return {
        "subtotal": round_price(subtotal),
        "discounted": round_price(discounted),
        "taxed": round_price(taxed),
        "shipping": round_price(shipping),
        "total": round_price(taxed + shipping),
    }


def average_price(prices):
    """The mean of a list of prices; 0 for none."""
    if not prices:
        return 0.0
    return sum(prices) / len(prices)


def cheapest(prices):
    """The lowest price; None for none."""
    return min(prices) if prices else None


def price_range(prices):
    """The lowest and highest prices as a pair."""
    if not prices:
        return (0.0, 0.0)
    return (min(prices), max(prices))


def format_price(value, currency="EUR"):
    """A price for display."""
    return f"{round_price(value):.2f} {currency}"


def parse_price(text):
    """A price typed by a user, with a comma or a point."""
    return float(text.replace(",", ".").strip())
'''
CART = '''"""The cart and its checkout."""

from shop.pricing import apply_discount, apply_tax, round_price, shipping_cost


class Cart:
    def __init__(self):
        self.items = []

    def add(self, name, price, quantity=1):
        self.items.append((name, price, quantity))

    def subtotal(self):
        return sum(price * quantity for _, price, quantity in self.items)


def checkout(cart, code, country="DE", method="standard"):
    subtotal = cart.subtotal()
    total = apply_discount(subtotal, code)
    total = apply_tax(total, country)
    return round_price(total + shipping_cost(method, total))
'''
TEST_SHOP = """from shop.cart import Cart, checkout


def test_checkout_without_a_code():
    cart = Cart()
    cart.add("pen", 2.0, 3)
    assert checkout(cart, "", "US") == 11.41
"""


def make_shop(root: Path) -> Path:
    (root / "shop").mkdir(parents=True, exist_ok=True)
    (root / "tests").mkdir(exist_ok=True)
    (root / "shop" / "__init__.py").write_text("")
    (root / "shop" / "pricing.py").write_text(PRICING)
    (root / "shop" / "cart.py").write_text(CART)
    (root / "tests" / "test_shop.py").write_text(TEST_SHOP)
    (root / "conftest.py").write_text("")
    (root / ".gitignore").write_text("__pycache__/\n")
    commit_all(root)
    return root


def shop_traceback(home: str = "/home/dev/shop-app") -> str:
    """The traceback a user sees in a terminal when the code "STAFF" crashes checkout (its
    line numbers read from the files themselves)."""

    def line_of(source: str, text: str) -> int:
        return source.splitlines().index(text) + 1

    called = "    total = apply_discount(subtotal, code)"
    crashed = "    return subtotal / RATES[code]"
    return (
        '$ python -c \'from shop.cart import *; c = Cart(); c.add("tea", 8); '
        'checkout(c, "STAFF")\'\n'
        "Traceback (most recent call last):\n"
        '  File "<string>", line 1, in <module>\n'
        f'  File "{home}/shop/cart.py", line {line_of(CART, called)}, in checkout\n'
        f"{called}\n"
        f'  File "{home}/shop/pricing.py", line {line_of(PRICING, crashed)}, in apply_discount\n'
        f"{crashed}\n"
        "ZeroDivisionError: float division by zero"
    )


def module_project(tmp_path, name, code, tests):
    """A committed project of one module, `name.py`, and its tests, `test_name.py`."""
    repo = tmp_path / name
    repo.mkdir()
    (repo / f"{name}.py").write_text(code)
    (repo / f"test_{name}.py").write_text(tests)
    commit_all(repo)
    return repo
