// Command broken does not compile: the rie tests check that a failed build
// returns the compiler's message.
package main

func main() {
	var n int = "not a number"
	_ = n
}
