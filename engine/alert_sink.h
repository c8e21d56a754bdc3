// File: engine/alert_sink.h
//
// Where alert revisions go as they are raised (a Kafka topic, a test vector).
// The back-test does not need one: it writes the final revision of each alert
// from the state store at the end of the run.
#ifndef TXFLAG_ENGINE_ALERT_SINK_H_
#define TXFLAG_ENGINE_ALERT_SINK_H_

#include "absl/status/status.h"
#include "proto/alert.pb.h"

namespace txflag::engine {

class AlertSink {
 public:
  virtual ~AlertSink() = default;
  // Hands over one revision. May buffer.
  virtual absl::Status Emit(const txflag::v1::Alert& alert) = 0;
  // Returns once every revision emitted so far is durable (file flushed,
  // broker acknowledged). The engine calls it before committing the state
  // that produced those revisions, so no revision is lost on a crash.
  virtual absl::Status Flush() = 0;
};

}  // namespace txflag::engine

#endif  // TXFLAG_ENGINE_ALERT_SINK_H_
