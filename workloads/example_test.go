package workloads_test

import (
	"fmt"
	"math/rand/v2"

	"github.com/convergesim/converge/workloads"
)

// Arrival generators give the submission times of a workload's jobs.
func Example() {
	r := rand.New(rand.NewPCG(1, 2))
	for _, a := range []workloads.Arrival{
		workloads.AllAtOnce{At: 5},
		workloads.FixedInterval{Start: 0, Every: 20},
		workloads.Poisson{Start: 0, Rate: 0.1},
	} {
		fmt.Printf("%-22s", a.String())
		for _, t := range a.Times(4, r) {
			fmt.Printf(" %7.2f", t)
		}
		fmt.Println()
	}
	// Output:
	// all at 5s                 5.00    5.00    5.00    5.00
	// every 20s from 0s         0.00   20.00   40.00   60.00
	// poisson 0.1/s from 0s     5.93    6.61    6.98   31.58
}
