#pragma once

// Unary calls that wait for their reply without putting the calling thread to sleep while
// the reply is moments away.
//
// gRPC's synchronous stubs block the caller in the kernel until the reply arrives. On
// virtual machines a blocked thread's CPU halts and waking it is a trip through the
// hypervisor: tens of microseconds per call, more than the worker takes to answer a find
// by _id, and the worker's own polling (server/service/rpc_threads.h) then misses the
// next request, which arrives late, and blocks too. Measured on 2 vCPUs over a unix
// socket: a Ping took 120-135 us through the synchronous stub, ~72 us through the
// asynchronous API blocking on a completion queue, and 26 us when the caller polled its
// queue for the reply; a find by _id 160-172, ~90 and 31-34 us.
//
// So each thread owns a completion queue; a call starts asynchronously on it and its
// thread polls the queue for the reply while polling pays off (common/adaptive_spin.h:
// slow calls stop the spinning, at most half the CPUs spin at once), then blocks.
//
// Contract: one call at a time per thread (calls are synchronous), started on
// CallQueue() of the thread that then calls Await.

#include <grpcpp/completion_queue.h>
#include <grpcpp/support/async_unary_call.h>
#include <grpcpp/support/status.h>

#include <memory>

namespace micromongo::internal {

// The calling thread's completion queue (created on first use, drained at thread exit).
grpc::CompletionQueue* CallQueue();

// Waits on CallQueue() for the event tagged `tag`, the only one outstanding.
void AwaitEvent(void* tag);

// The status of a unary call started on CallQueue(), once `reply` holds its answer.
template <typename Reply>
grpc::Status Await(std::unique_ptr<grpc::ClientAsyncResponseReader<Reply>> call, Reply* reply) {
  grpc::Status status;
  call->Finish(reply, &status, &status);
  AwaitEvent(&status);
  return status;
}

}  // namespace micromongo::internal
