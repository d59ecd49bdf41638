/* audit.c -- placeholder */
