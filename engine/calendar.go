package engine

// calendar is the engine's event queue: a typed 4-ary min-heap ordered by
// (time, insertion sequence), so events at equal times run in the order
// they were scheduled. Four children a node halve the depth of a binary
// heap; with hundreds of thousands of pending events (a pod's finish each)
// the pops are dominated by cache misses down the tree, so a shallower
// tree is faster. Sifting moves a hole rather than swapping.
type calendar struct {
	items []item
	seq   uint64
}

type item struct {
	t     float64
	seq   uint64
	kind  evKind
	agent uint8 // evAgent: the agent's slot
	sub   uint8 // evAgent: the agent's own event kind
	id    int32 // pod, job or node index, by kind
	tag   int64
}

func before(a, b *item) bool {
	if a.t != b.t {
		return a.t < b.t
	}
	return a.seq < b.seq
}

func (c *calendar) push(it item) {
	it.seq = c.seq
	c.seq++
	c.items = append(c.items, it)
	items := c.items
	i := len(items) - 1
	for i > 0 {
		p := (i - 1) / 4
		if !before(&it, &items[p]) {
			break
		}
		items[i] = items[p]
		i = p
	}
	items[i] = it
}

func (c *calendar) pop() item {
	items := c.items
	top := items[0]
	n := len(items) - 1
	c.items = items[:n]
	if n > 0 {
		items[0] = items[n]
		c.down(0)
	}
	return top
}

// down sifts item i of the 4-ary heap down to its place.
func (c *calendar) down(i int) {
	items := c.items
	n := len(items)
	x := items[i]
	for {
		first := 4*i + 1
		if first >= n {
			break
		}
		m := first
		for k := first + 1; k < min(first+4, n); k++ {
			if before(&items[k], &items[m]) {
				m = k
			}
		}
		if !before(&items[m], &x) {
			break
		}
		items[i] = items[m]
		i = m
	}
	items[i] = x
}

func (c *calendar) len() int { return len(c.items) }
