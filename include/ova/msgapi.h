/* ova — Open Video Analytics
 * SPDX-License-Identifier: MIT
 *
 * The protocol adapter interface: what every broker adapter
 * (libova_mqtt.so, libova_amqp.so, libova_redis.so, libova_kafka.so)
 * exports. It has the shape of DeepStream's nvds_msgapi so its users
 * recognise it: connect with a connection string and a config file,
 * send (sync or async with a completion callback), subscribe for
 * cloud-to-device messages, do_work, disconnect, version, protocol
 * name and connection signature.
 *
 * Differences from nvds_msgapi, all additive:
 *  - the connect callback gets a user pointer and a human-readable
 *    reason, and connect can report why it failed (@error_out);
 *  - a completion with OVA_MSGAPI_ERR means "not confirmed by the
 *    broker": the message may or may not have arrived; the caller
 *    (ova's publisher) re-sends it from its spool, which makes delivery
 *    at-least-once.
 *
 * Threading: adapters run their own I/O thread. All functions may be
 * called from any thread; callbacks arrive on the adapter's thread and
 * must not call ova_msgapi_disconnect(). ova_msgapi_do_work() is
 * accepted (and cheap) for callers written for nvds_msgapi but never
 * required.
 *
 * Connection string: "host;port" or "host;port;topic" (DeepStream's
 * conn-str). The config file is a key file; each adapter reads its
 * group ([message-broker], as DeepStream's cfg_*.txt files do) and
 * rejects unknown or malformed values with the file, group and key.
 * Keys common to every adapter:
 *   connect-timeout-ms   (default 3000) the first connection must be up
 *                        within this time or connect fails
 *   reconnect-interval-ms (default 500) delay between reconnection tries
 *   topic                default topic when the send topic is NULL
 */
#ifndef OVA_MSGAPI_H
#define OVA_MSGAPI_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define OVA_MSGAPI_VERSION "1.0"

typedef void *OvaMsgApiHandle;

typedef enum {
  OVA_MSGAPI_EVT_SERVICE_DOWN = 0, /* the broker closed or refused the connection */
  OVA_MSGAPI_EVT_DISCONNECT = 1,   /* the connection was lost; the adapter retries */
  OVA_MSGAPI_EVT_SUCCESS = 2,      /* connected (first time or again) */
} OvaMsgApiEventType;

typedef enum {
  OVA_MSGAPI_OK = 0,
  OVA_MSGAPI_ERR = 1,
  OVA_MSGAPI_UNKNOWN_TOPIC = 2,
} OvaMsgApiErrorType;

/** Completion of ova_msgapi_send_async(): OK once the broker acknowledged. */
typedef void (*OvaMsgApiSendCb) (void *user_ptr, OvaMsgApiErrorType status);

/** A message on a subscribed topic (cloud to device). @msg is not NUL-terminated. */
typedef void (*OvaMsgApiSubscribeCb) (OvaMsgApiErrorType status, void *msg, int msg_len,
                                      char *topic, void *user_ptr);

/** Connection events; @reason is a short human-readable text (may be NULL). */
typedef void (*OvaMsgApiConnectCb) (OvaMsgApiHandle h, OvaMsgApiEventType evt,
                                    const char *reason, void *user_ptr);

/* Entry points exported by every adapter (looked up by these names). */

/**
 * ova_msgapi_connect:
 * @conn_str: "host;port" or "host;port;topic"
 * @connect_cb: (nullable): connection events
 * @config_path: (nullable): adapter config file
 * @user_ptr: passed to @connect_cb
 * @error_out: (nullable): on failure, receives a malloc()ed message (free() it)
 *
 * Connects, waiting at most connect-timeout-ms for the broker.
 * Returns: a handle, or NULL on failure, with errno EINVAL when the
 * connection string or config is wrong (retrying will not help) and another
 * value (ECONNREFUSED) when the broker could not be reached.
 */
OvaMsgApiHandle ova_msgapi_connect (const char *conn_str, OvaMsgApiConnectCb connect_cb,
                                    const char *config_path, void *user_ptr, char **error_out);

/** Blocks until the broker acknowledged (or the connect timeout passed). */
OvaMsgApiErrorType ova_msgapi_send (OvaMsgApiHandle h, const char *topic,
                                    const uint8_t *payload, size_t nbuf);

/**
 * Queues a message. When it returns OK, @send_cb is called exactly once:
 * OK when the broker acknowledged, ERR when the connection was lost first.
 * When it returns ERR (not connected, bad arguments), @send_cb is not called.
 */
OvaMsgApiErrorType ova_msgapi_send_async (OvaMsgApiHandle h, const char *topic,
                                          const uint8_t *payload, size_t nbuf,
                                          OvaMsgApiSendCb send_cb, void *user_ptr);

/** Subscribes to @topics; @cb is called for every message until disconnect. */
OvaMsgApiErrorType ova_msgapi_subscribe (OvaMsgApiHandle h, char **topics, int num_topics,
                                         OvaMsgApiSubscribeCb cb, void *user_ptr);

/** Compatibility no-op point for callers that drive the adapter themselves. */
void ova_msgapi_do_work (OvaMsgApiHandle h);

/** Flushes what is in flight (bounded by connect-timeout-ms), fails the rest, frees @h. */
OvaMsgApiErrorType ova_msgapi_disconnect (OvaMsgApiHandle h);

/** Returns: (transfer none): the interface version, OVA_MSGAPI_VERSION. */
const char *ova_msgapi_getversion (void);

/** Returns: (transfer none): "MQTT", "AMQP", "REDIS" or "KAFKA". */
const char *ova_msgapi_get_protocol_name (void);

/**
 * ova_msgapi_connection_signature:
 * Writes into @output_str a string identifying the connection
 * (protocol, host, port, and the config entries that select the
 * endpoint), so that several components can share one connection.
 * Returns: OK, or ERR when the inputs are invalid or @max_len is too small.
 */
OvaMsgApiErrorType ova_msgapi_connection_signature (const char *conn_str, const char *config_path,
                                                    char *output_str, int max_len);

#ifdef __cplusplus
}
#endif

#endif /* OVA_MSGAPI_H */
