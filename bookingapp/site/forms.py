"""The customer forms; the service checks the values again, these only shape them."""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import EmailField, HiddenField, IntegerField, StringField
from wtforms.validators import InputRequired, Length, NumberRange

from bookingapp.errors import DomainError, ValidationError
from bookingapp.services.booking_input import MAX_EMAIL, MAX_NAME


class BookingForm(FlaskForm):
    slot_id = IntegerField(
        "Time", validators=[InputRequired("Choose a time.")], invalid_value_message="Choose a time from the list."
    )
    name = StringField("Your name", validators=[InputRequired("Tell us your name."), Length(max=MAX_NAME)])
    email = EmailField("Email", validators=[InputRequired("We need an email address."), Length(max=MAX_EMAIL)])
    party_size = IntegerField(
        "Players",
        validators=[InputRequired("How many players?"), NumberRange(min=1, message="At least one player.")],
        invalid_value_message="Enter the number of players as a whole number.",
    )

    def show_error(self, error: DomainError) -> None:
        """Put a refused booking's reasons next to the fields they concern, or above the form."""
        fields = error.fields if isinstance(error, ValidationError) else {}
        placed = [name for name in fields if name in self._fields]
        for name in placed:
            field = self._fields[name]
            field.errors = [*field.errors, f"{field.label.text}: {fields[name]}."]
        if not placed:
            self.form_errors.append(error.message)


class CancelForm(FlaskForm):
    token = HiddenField(validators=[InputRequired()])


class MoveForm(CancelForm):
    slot_id = IntegerField(
        "New time", validators=[InputRequired("Choose a time.")], invalid_value_message="Choose a time from the list."
    )
