mod twilio_client;
