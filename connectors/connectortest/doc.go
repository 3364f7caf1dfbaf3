// Package connectortest is the conformance suite of connectors: every
// connector's tests call Run with a few cases of its own sources, so that
// all connectors keep the same contract of connectors.Source and
// connectors.Stream (batches, schema, end of stream, cancellation,
// fingerprints, reference counting, memory freed).
//
// A connector's test reads:
//
//	func TestConformance(t *testing.T) {
//		connectortest.Run(t, []connectortest.Case{{
//			Name:      "small",
//			Source:    func(t testing.TB) connectors.Source { ... },
//			Rows:      1000,
//			BatchRows: 100,
//			Unchanged: true,
//		}})
//	}
//
// PeakAllocator helps a connector's own tests show that its memory does not
// grow with the size of the source.
package connectortest
