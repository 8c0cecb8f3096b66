"""The staff flow in a real browser: log in, create a game, watch its window fill, book it."""
from __future__ import annotations

import re

from playwright.sync_api import expect

from bookingapp.core.hours import WEEKDAYS


def create_game_as_staff(page, server, login, name: str) -> str:
    """Log in, fill the new-game form, land on its progress page; return the game's slug."""
    page.goto(server.url + "/admin/")
    expect(page).to_have_url(re.compile(r"/admin/login\?next="))
    page.fill("#username", login[0])
    page.fill("#password", login[1])
    page.click("button:has-text('Log in')")
    expect(page.locator("h1")).to_have_text("Games")
    page.click("nav >> text=New game")
    page.fill("#name", name)
    page.fill("#timezone", "Europe/London")
    page.fill("#slot_minutes", "45")
    page.fill("#gap_minutes", "15")
    page.fill("#capacity", "6")
    page.fill("#days_ahead", "30")
    for day in WEEKDAYS:
        page.fill(f"#hours_{day}", "10:00-14:00, 18:00-01:00")
    page.click("button:has-text('Create game')")
    expect(page).to_have_url(re.compile(r"/admin/games/[0-9a-f-]+/progress$"))
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


def watch_progress_to_the_end(page) -> None:
    bar = page.locator("[role=progressbar]")
    expect(bar).to_have_attribute("aria-valuenow", "100", timeout=30_000)
    expect(page.locator(".progress-text")).to_contain_text("100 % · done: 30 of 30 days")
    expect(page.locator(".progress-done")).to_be_visible()
    expect(page.locator(".progress-error")).to_be_hidden()


def test_staff_create_a_game_and_watch_the_progress_bar_reach_100_percent(page, live_server, staff_login):
    create_game_as_staff(page, live_server, staff_login, "Browser Room")
    watch_progress_to_the_end(page)
    slots = page.locator(".progress-text").inner_text()
    assert int(re.search(r"(\d+) slots created", slots).group(1)) == 30 * 11  # an hour apart: 4 by 14:00, 7 from 18:00 to 01:00
    page.click("text=Back to games")
    expect(page.locator("table")).to_contain_text("Browser Room")
    expect(page.locator("table")).to_contain_text("none")  # no missing days
    page.click("nav >> text=Run history")
    expect(page.locator("tbody tr").first).to_contain_text("admin")


def test_a_bad_form_shows_the_field_messages_in_the_browser(page, live_server, staff_login):
    page.goto(live_server.url + "/admin/login")
    page.fill("#username", staff_login[0])
    page.fill("#password", staff_login[1])
    page.click("button:has-text('Log in')")
    page.goto(live_server.url + "/admin/games/new")
    page.fill("#name", "Broken")
    page.fill("#timezone", "Mars/Olympus")
    page.fill("#hours_mon", "10:00-12:00, 11:00-13:00")
    page.click("button:has-text('Create game')")
    expect(page.locator(".field-error")).to_contain_text(["not a known IANA time zone", "ranges overlap"])


def test_without_javascript_a_button_starts_the_job_and_the_page_refreshes_until_done(
    page_without_js, live_server, staff_login
):
    page = page_without_js
    create_game_as_staff(page, live_server, staff_login, "Quiet Room")
    expect(page.locator(".progress-text")).to_contain_text("have not been written")
    page.click("button:has-text('Generate the window now')")
    expect(page).to_have_url(re.compile(r"/progress\?job=[0-9a-f]{32}$"))
    expect(page.locator(".progress-text")).to_contain_text("100 % · done: 30 of 30 days, 330 slots created.")
    expect(page.locator(".progress-done")).to_be_visible()


def test_staff_create_a_game_then_a_customer_books_a_slot(page, live_server, staff_login):
    slug = create_game_as_staff(page, live_server, staff_login, "Booked Room")
    watch_progress_to_the_end(page)
    page.click("text=See the customer page")
    expect(page).to_have_url(re.compile(rf"/games/{slug}$"))
    form = page.locator("form:has([name=party_size])").first
    slot_choices = form.locator("input[name=slot_id]")
    if slot_choices.count():  # a time picked from the window: radios drawn as their labels
        form.locator(f"label[for='{slot_choices.first.get_attribute('id')}']").click()
        expect(slot_choices.first).to_be_checked()
    form.locator("[name=name]").fill("Ada Lovelace")
    form.locator("[name=email]").fill("ada@example.com")
    form.locator("[name=party_size]").fill("2")
    form.locator("button[type=submit], input[type=submit]").last.click()
    expect(page).to_have_url(re.compile(r"/bookings/[A-Z0-9]+"))
    expect(page.locator("body")).to_contain_text("Ada Lovelace")
    expect(page.locator("body")).to_contain_text("onfirmed")


def test_staff_find_a_booking_move_it_and_mark_arrival_and_the_customer_sees_the_new_time(
    page, browser, live_server, staff_login
):
    slug = create_game_as_staff(page, live_server, staff_login, "Moving Room")
    watch_progress_to_the_end(page)

    customer = browser.new_context().new_page()
    customer.goto(f"{live_server.url}/games/{slug}")
    form = customer.locator("form:has([name=party_size])").first
    first = form.locator("input[name=slot_id]").first
    form.locator(f"label[for='{first.get_attribute('id')}']").click()
    form.locator("[name=name]").fill("Grace Hopper")
    form.locator("[name=email]").fill("grace.hopper@example.com")
    form.locator("[name=party_size]").fill("2")
    form.locator("button[type=submit], input[type=submit]").last.click()
    expect(customer).to_have_url(re.compile(r"/bookings/[A-Z0-9]+"))
    booked_at = customer.locator("dd time").first.get_attribute("datetime")

    page.goto(f"{live_server.url}/admin/bookings/search?q=GRACE.hopper")
    expect(page.locator("table")).to_contain_text("Grace Hopper")
    page.locator("table a").first.click()
    expect(page.locator("h1")).to_contain_text("Booking ")
    target = page.locator("#move input[name=slot_id]:not([disabled])").first
    new_time = page.locator(f"label[for='{target.get_attribute('id')}']").inner_text().split()[0]
    target.check()
    page.click("button:has-text('Move here')")
    expect(page.locator("#booking-when")).to_contain_text(new_time)
    page.click("button:has-text('Arrived')")
    expect(page.locator("#booking-attendance")).to_have_text("arrived")
    expect(page.locator("table")).to_contain_text("move")

    customer.reload()
    moved = customer.locator("dd time").first
    expect(moved).to_contain_text(new_time)
    assert moved.get_attribute("datetime") != booked_at
    customer.context.close()
