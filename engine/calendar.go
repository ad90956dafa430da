package engine

// calendar is the engine's event queue: a typed binary min-heap ordered by
// (time, insertion sequence), so events at equal times run in the order
// they were scheduled.
type calendar struct {
	items []item
	seq   uint64
}

type item struct {
	t    float64
	seq  uint64
	kind evKind
	id   int32 // pod, job or node index, by kind
	tag  int64
}

func (c *calendar) less(i, j int) bool {
	a, b := &c.items[i], &c.items[j]
	if a.t != b.t {
		return a.t < b.t
	}
	return a.seq < b.seq
}

func (c *calendar) push(it item) {
	it.seq = c.seq
	c.seq++
	c.items = append(c.items, it)
	i := len(c.items) - 1
	for i > 0 {
		p := (i - 1) / 2
		if !c.less(i, p) {
			break
		}
		c.items[i], c.items[p] = c.items[p], c.items[i]
		i = p
	}
}

func (c *calendar) pop() item {
	top := c.items[0]
	n := len(c.items) - 1
	c.items[0] = c.items[n]
	c.items = c.items[:n]
	i := 0
	for {
		l := 2*i + 1
		if l >= n {
			break
		}
		m := l
		if r := l + 1; r < n && c.less(r, l) {
			m = r
		}
		if !c.less(m, i) {
			break
		}
		c.items[i], c.items[m] = c.items[m], c.items[i]
		i = m
	}
	return top
}

func (c *calendar) len() int { return len(c.items) }
