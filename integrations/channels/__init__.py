"""Notification channels: how one alert message is sent by email or webhook."""
