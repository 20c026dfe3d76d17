from sqlalchemy import func, select

from shopapp.auth import services as auth
from shopapp.auth.models import User
from shopapp.categories.models import Category
from shopapp.extensions import db
from shopapp.products.models import Product, ProductImage
from shopapp.shops.models import Shop


def count(model):
    return db.session.scalar(select(func.count()).select_from(model))


def test_seed_demo_fills_an_empty_database_once(app, runner):
    result = runner.invoke(args=["seed-demo"])
    assert result.exit_code == 0, result.output
    assert "ada@shopapp.example  password: ada-demo-pass" in result.output
    with app.app_context():
        assert (count(User), count(Shop)) == (3, 5)
        assert count(Category) >= 15
        assert (
            db.session.scalar(select(func.count()).select_from(Category).where(Category.parent_id.is_not(None))) >= 10
        )
        assert count(Product) >= 200
        names = db.session.scalars(select(Product.name)).all()
        assert len(set(names)) > 150
        prices = set(db.session.scalars(select(Product.price)).all())
        assert len(prices) > 10
        assert db.session.scalar(select(func.count()).select_from(Product).where(Product.stock == 0)) > 0

        # Every product has a real image, made by the upload pipeline.
        assert count(ProductImage) == count(Product)
        # The printed passwords work.
        assert auth.authenticate("grace@shopapp.example", "grace-demo-pass").name == "Grace Hopper"

    again = runner.invoke(args=["seed-demo"])
    assert again.exit_code == 0
    assert "left it alone" in again.output
    with app.app_context():
        assert count(Product) == len(names)


def test_create_user(app, runner):
    result = runner.invoke(
        args=["create-user", "--email", "New@Example.com", "--name", "New"], input="a good password\na good password\n"
    )
    assert result.exit_code == 0, result.output
    assert "<new@example.com>" in result.output
    duplicate = runner.invoke(
        args=["create-user", "--email", "new@example.com", "--name", "Again"],
        input="a good password\na good password\n",
    )
    assert duplicate.exit_code != 0
    assert "already exists" in duplicate.output
    with app.app_context():
        assert count(User) == 1


def test_create_user_names_every_invalid_value(app, runner):
    result = runner.invoke(args=["create-user", "--email", "not an email", "--name", " "], input="short\nshort\n")
    assert result.exit_code != 0
    assert "email: is not a valid email address\n" in result.output
    assert "password: must be 8 to 128 characters\n" in result.output
    assert "name: must not be empty" in result.output
    with app.app_context():
        assert count(User) == 0
