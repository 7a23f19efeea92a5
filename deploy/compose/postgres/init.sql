-- Runs once, when the postgres volume is empty: the api's own database beside
-- Rasa's tracker store (database "easyflow", created by POSTGRES_DB).
CREATE DATABASE easyflow_api;
