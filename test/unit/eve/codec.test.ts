/** Codec helpers: Go-like encoding of defaults, decode errors that name the type, Timestamp conversion. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  common,
  config,
  decode,
  encode,
  info,
  isWireError,
  messageTypeName,
  timestampFromDate,
  timestampFromMs,
  timestampToDate,
  timestampToMs,
} from '../../../src/eve/index.js';

void describe('codec', () => {
  void it('leaves proto3 defaults out even when set explicitly, like Go', () => {
    const withDefaults = encode(info.ZInfoMsg, {
      ztype: info.ZInfoTypes.ZiNop,
      devId: '',
      cluster_node: { node_status: info.ZInfoClusterNodeStatus.Z_INFO_CLUSTER_NODE_STATUS_UNSPECIFIED },
    });
    // Only the oneof member remains, as an empty message (field 22, length 0).
    assert.equal(withDefaults.toString('hex'), 'b20100');
    assert.equal(encode(config.ConfigRequest, { configHash: '', integrity_token: new Uint8Array() }).length, 0);
  });

  void it('writes oneof members after the other fields, like Go', () => {
    const bytes = encode(info.ZInfoMsg, { ztype: info.ZInfoTypes.ZiApp, ainfo: { AppID: 'a' }, atTimeStamp: { seconds: 1 } });
    assert.equal(bytes.toString('hex'), '0803' + '32020801' + '2a030a0161');
  });

  void it('names the message type in a decode error', () => {
    assert.throws(
      () => decode(config.ConfigResponse, Buffer.from([0x0a, 0x05, 0x01])),
      (e) => isWireError(e) && e.kind === 'MALFORMED' && e.messageType === 'org.lfedge.eve.config.ConfigResponse' &&
        e.message.includes('org.lfedge.eve.config.ConfigResponse'),
    );
    assert.equal(messageTypeName(info.ZInfoMsg), 'org.lfedge.eve.info.ZInfoMsg');
    // A string running past the end of a Buffer is an error too (protobufjs' BufferReader would not notice).
    assert.throws(() => decode(common.EncryptionBlock, Buffer.from([0x0a, 0x7f, 0x01])), (e) => isWireError(e));
  });

  void it('converts Timestamps to and from Date and milliseconds', () => {
    const d = new Date('2025-06-01T12:00:00.250Z');
    assert.deepEqual(timestampFromDate(d), { seconds: 1748779200, nanos: 250_000_000 });
    assert.equal(timestampToMs(timestampFromMs(-1500)), -1500);
    assert.equal(timestampToDate({ seconds: 1748779200, nanos: 999_999_999 }).toISOString(), '2025-06-01T12:00:00.999Z');
    assert.equal(timestampToMs(null), 0);
  });
});
