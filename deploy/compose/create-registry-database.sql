CREATE DATABASE apicurio_registry OWNER novatrade;
