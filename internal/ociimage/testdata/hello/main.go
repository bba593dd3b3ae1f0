// Command hello stands in for the manager in the image test: a small binary
// that links quickly.
package main

import "fmt"

func main() { fmt.Println("hello") }
