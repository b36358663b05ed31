from django.urls import path

from . import views

app_name = "trading"
urlpatterns = [
    path("", views.board, name="board"),
    path("order/", views.order_submit, name="order"),
    path("take/", views.take_submit, name="take"),
    path("cancel/", views.cancel_submit, name="cancel"),
    path("orders/", views.orders, name="orders"),
    path("funds/", views.funds, name="funds"),
    path("funds/deposit/", views.funds_deposit, name="funds_deposit"),
    path("day/", views.trading_day, name="day"),
    path("day/open/", views.day_open_submit, name="day_open"),
    path("day/close/", views.day_close_submit, name="day_close"),
    path("members/", views.members, name="members"),
    path("market/", views.market, name="market"),
    path("market/<str:instrument>/", views.market_instrument, name="market_instrument"),
]
