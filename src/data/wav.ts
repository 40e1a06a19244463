// Reading WAV files (RIFF, PCM 16-bit or 32-bit float, mono or the first channel of several):
// what `eval --data FOLDER` and `run --input clip.wav` read for an audio model.
import * as fs from 'fs';

export interface WavAudio {
  sampleRate: number;
  /** The first channel, scaled to [-1, 1). */
  samples: Float32Array;
}

export function readWav(file: string): WavAudio {
  const b = fs.readFileSync(file);
  if (b.length < 12 || b.toString('ascii', 0, 4) !== 'RIFF' || b.toString('ascii', 8, 12) !== 'WAVE') throw new Error(`${file}: not a WAV file (no RIFF/WAVE header).`);
  let format = 0;
  let channels = 0;
  let sampleRate = 0;
  let bits = 0;
  for (let at = 12; at + 8 <= b.length; ) {
    const id = b.toString('ascii', at, at + 4);
    const size = b.readUInt32LE(at + 4);
    const body = at + 8;
    if (id === 'fmt ') {
      format = b.readUInt16LE(body);
      channels = b.readUInt16LE(body + 2);
      sampleRate = b.readUInt32LE(body + 4);
      bits = b.readUInt16LE(body + 14);
    } else if (id === 'data') {
      if (!channels) throw new Error(`${file}: the data chunk comes before the fmt chunk.`);
      const end = Math.min(b.length, body + size);
      const width = bits / 8;
      const frames = Math.floor((end - body) / (width * channels));
      const samples = new Float32Array(frames);
      for (let i = 0; i < frames; i++) {
        const p = body + i * width * channels;
        if (format === 1 && bits === 16) samples[i] = b.readInt16LE(p) / 32768;
        else if (format === 3 && bits === 32) samples[i] = b.readFloatLE(p);
        else throw new Error(`${file}: WAV format ${format} with ${bits}-bit samples; expected 16-bit PCM or 32-bit float.`);
      }
      return { sampleRate, samples };
    }
    at = body + size + (size % 2);
  }
  throw new Error(`${file}: no data chunk.`);
}
