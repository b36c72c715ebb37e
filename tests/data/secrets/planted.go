package main

// Go service with planted secrets.
const apiKey = "sk-9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d"
var gitlab = "glpat-A1b2C3d4E5f6G7h8I9j0"

func dsn() string {
	password := "correct-horse-battery-staple"
	return "mysql://root:" + password + "@tcp(127.0.0.1)/app"
}
