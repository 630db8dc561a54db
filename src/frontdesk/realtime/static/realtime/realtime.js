// Realtime client: filled in by the realtime app.
