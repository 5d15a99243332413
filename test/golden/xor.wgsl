// kernel whole_step_0
@group(0) @binding(0) var<storage, read> in0: array<f32>;
@group(0) @binding(1) var<storage, read> in1: array<f32>;
@group(0) @binding(2) var<storage, read> in2: array<f32>;
@group(0) @binding(3) var<storage, read_write> out3: array<f32>;
@group(0) @binding(4) var<storage, read_write> out4: array<f32>;
@group(0) @binding(5) var<storage, read_write> out5: array<f32>;
@group(0) @binding(6) var<storage, read_write> out6: array<f32>;
@group(0) @binding(7) var<storage, read_write> out7: array<f32>;
@group(0) @binding(8) var<storage, read_write> out8: array<f32>;
@group(0) @binding(9) var<storage, read_write> out9: array<f32>;
var<workgroup> red: array<f32, 192>;
var<workgroup> w10: array<f32, 12>;
var<workgroup> w11: array<f32, 4>;
var<workgroup> w12: array<f32, 4>;
var<workgroup> w13: array<f32, 1>;
var<workgroup> w14: array<f32, 4>;
var<workgroup> w15: array<f32, 12>;

@compute @workgroup_size(64)
fn main(@builtin(local_invocation_index) lid: u32) {
  {
    for (var e = lid; e < 12u; e += 64u) {
      let row = (e / 3u) % 4u;
      let col = e % 3u;
      var acc = 0.0;
      for (var k = 0u; k < 2u; k++) {
        acc = fma(in0[(row) * 2u + k], out7[(k) * 3u + col], acc);
      }
      {
        let idx = (row) * 3u + col;
        let v0 = (acc + out8[(idx % 3u)]);
        let v1 = select(exp(v0) / (1.0 + exp(v0)), 1.0 / (1.0 + exp(-v0)), v0 >= 0.0);
        w10[idx] = v1;
      }
    }
  }
  workgroupBarrier();
  storageBarrier();
  {
    for (var e = lid; e < 4u; e += 64u) {
      let row = (e / 1u) % 4u;
      let col = e % 1u;
      var acc = 0.0;
      for (var k = 0u; k < 3u; k++) {
        acc = fma(w10[(row) * 3u + k], out9[(k) * 1u + col], acc);
      }
      {
        let idx = (row) * 1u + col;
        let v0 = (acc + out5[0u]);
        let v1 = select(exp(v0) / (1.0 + exp(v0)), 1.0 / (1.0 + exp(-v0)), v0 >= 0.0);
        w11[idx] = v0;
        w12[idx] = v1;
      }
    }
  }
  workgroupBarrier();
  storageBarrier();
  {
    var p0 = 0.0;
    var p1 = 0.0;
    var p2 = 0.0;
    for (var r = lid; r < 4u; r += 64u) {
      let v0 = (max(w11[r], 0.0) + log(1.0 + exp(-abs(w11[r]))));
      let v1 = (in1[r] * w11[r]);
      let v2 = (v0 - v1);
      let v3 = v2;
      let v4 = (v3 * in2[r]);
      p0 = p0 + v4;
      let v5 = select(0.0, 1.0, w12[r] > f32(0.5));
      let v6 = select(0.0, 1.0, in1[r] > f32(0.5));
      let v7 = select(0.0, 1.0, v5 == v6);
      let v8 = v7;
      let v9 = (v8 * in2[r]);
      p1 = p1 + v9;
      p2 = p2 + in2[r];
    }
    red[lid] = p0;
    red[64u + lid] = p1;
    red[128u + lid] = p2;
    workgroupBarrier();
    for (var width = 32u; width > 0u; width = width >> 1u) {
      if (lid < width) {
        red[lid] = red[lid] + red[lid + width];
        red[64u + lid] = red[64u + lid] + red[64u + lid + width];
        red[128u + lid] = red[128u + lid] + red[128u + lid + width];
      }
      workgroupBarrier();
    }
    let v10 = red[0u];
    let v11 = red[64u + 0u];
    let v12 = red[128u + 0u];
    workgroupBarrier();
    let v13 = max(v12, f32(1.0));
    let v14 = (f32(1.0) / v13);
    let v15 = v14;
    for (var r = lid; r < 4u; r += 64u) {
      let v16 = v15;
      let v17 = (v16 * in2[r]);
      let v18 = v17;
      let v19 = (-v18);
      let v20 = (v19 * in1[r]);
      let v21 = v17;
      let v22 = (v21 * w12[r]);
      let v23 = (v20 + v22);
      w14[r] = v23;
    }
    workgroupBarrier();
    if (lid == 0u) {
      w13[0u] = v12;
      let v24 = (out3[0u] + v10);
      out3[0u] = v24;
      let v25 = (out4[0u] + v11);
      out4[0u] = v25;
    }
  }
  workgroupBarrier();
  storageBarrier();
  {
    for (var i = lid; i < 1u; i += 64u) {
      let base = i;
      var acc = 0.0;
      for (var r0 = 0u; r0 < 4u; r0++) {
        acc = acc + w14[base + r0];
      }
      let v0 = (f32(0.10000000149011612) * acc);
      let v1 = (out5[i] - v0);
      let v2 = (out6[i] + w13[i]);
      out5[i] = v1;
      out6[i] = v2;
    }
  }
  workgroupBarrier();
  storageBarrier();
  {
    for (var e = lid; e < 12u; e += 64u) {
      let row = (e / 3u) % 4u;
      let col = e % 3u;
      var acc = 0.0;
      for (var k = 0u; k < 1u; k++) {
        acc = fma(w14[(row) * 1u + k], out9[(col) * 1u + k], acc);
      }
      {
        let idx = (row) * 3u + col;
        let v0 = (f32(1.0) - w10[idx]);
        let v1 = (w10[idx] * v0);
        let v2 = (acc * v1);
        w15[idx] = v2;
      }
    }
  }
  workgroupBarrier();
  storageBarrier();
  {
    for (var e = lid; e < 6u; e += 64u) {
      let row = (e / 3u) % 2u;
      let col = e % 3u;
      var acc = 0.0;
      for (var k = 0u; k < 4u; k++) {
        acc = fma(in0[(k) * 2u + row], w15[(k) * 3u + col], acc);
      }
      {
        let idx = (row) * 3u + col;
        let v0 = (f32(0.10000000149011612) * acc);
        let v1 = (out7[idx] - v0);
        out7[idx] = v1;
      }
    }
  }
  workgroupBarrier();
  storageBarrier();
  {
    for (var i = lid; i < 3u; i += 64u) {
      let base = i;
      var acc = 0.0;
      for (var r0 = 0u; r0 < 4u; r0++) {
        acc = acc + w15[base + r0 * 3u];
      }
      let v0 = (f32(0.10000000149011612) * acc);
      let v1 = (out8[i] - v0);
      out8[i] = v1;
    }
  }
  workgroupBarrier();
  storageBarrier();
  {
    for (var e = lid; e < 3u; e += 64u) {
      let row = (e / 1u) % 3u;
      let col = e % 1u;
      var acc = 0.0;
      for (var k = 0u; k < 4u; k++) {
        acc = fma(w10[(k) * 3u + row], w14[(k) * 1u + col], acc);
      }
      {
        let idx = (row) * 1u + col;
        let v0 = (f32(0.10000000149011612) * acc);
        let v1 = (out9[idx] - v0);
        out9[idx] = v1;
      }
    }
  }
}

// kernel whole_step_1
@group(0) @binding(0) var<storage, read> in0: array<f32>;
@group(0) @binding(1) var<storage, read> in1: array<f32>;
@group(0) @binding(2) var<storage, read> in2: array<f32>;
@group(0) @binding(3) var<storage, read> in3: array<f32>;
@group(0) @binding(4) var<storage, read> in4: array<f32>;
@group(0) @binding(5) var<storage, read> in5: array<f32>;
@group(0) @binding(6) var<storage, read> in6: array<f32>;
@group(0) @binding(7) var<storage, read_write> out7: array<f32>;
@group(0) @binding(8) var<storage, read_write> out8: array<f32>;
@group(0) @binding(9) var<storage, read_write> out9: array<f32>;
var<workgroup> red: array<f32, 192>;
var<workgroup> w10: array<f32, 12>;
var<workgroup> w11: array<f32, 4>;

@compute @workgroup_size(64)
fn main(@builtin(local_invocation_index) lid: u32) {
  {
    for (var e = lid; e < 12u; e += 64u) {
      let row = (e / 3u) % 4u;
      let col = e % 3u;
      var acc = 0.0;
      for (var k = 0u; k < 2u; k++) {
        acc = fma(in1[(row) * 2u + k], in2[(k) * 3u + col], acc);
      }
      {
        let idx = (row) * 3u + col;
        let v0 = (acc + in0[(idx % 3u)]);
        let v1 = select(exp(v0) / (1.0 + exp(v0)), 1.0 / (1.0 + exp(-v0)), v0 >= 0.0);
        w10[idx] = v1;
      }
    }
  }
  workgroupBarrier();
  storageBarrier();
  {
    for (var e = lid; e < 4u; e += 64u) {
      let row = (e / 1u) % 4u;
      let col = e % 1u;
      var acc = 0.0;
      for (var k = 0u; k < 3u; k++) {
        acc = fma(w10[(row) * 3u + k], in4[(k) * 1u + col], acc);
      }
      {
        let idx = (row) * 1u + col;
        let v0 = (acc + in3[0u]);
        w11[idx] = v0;
      }
    }
  }
  workgroupBarrier();
  storageBarrier();
  {
    var p0 = 0.0;
    var p1 = 0.0;
    var p2 = 0.0;
    for (var r = lid; r < 4u; r += 64u) {
      let v0 = (max(w11[r], 0.0) + log(1.0 + exp(-abs(w11[r]))));
      let v1 = (in5[r] * w11[r]);
      let v2 = (v0 - v1);
      let v3 = v2;
      let v4 = (v3 * in6[r]);
      p0 = p0 + v4;
      let v5 = select(exp(w11[r]) / (1.0 + exp(w11[r])), 1.0 / (1.0 + exp(-w11[r])), w11[r] >= 0.0);
      let v6 = select(0.0, 1.0, v5 > f32(0.5));
      let v7 = select(0.0, 1.0, in5[r] > f32(0.5));
      let v8 = select(0.0, 1.0, v6 == v7);
      let v9 = v8;
      let v10 = (v9 * in6[r]);
      p1 = p1 + v10;
      p2 = p2 + in6[r];
    }
    red[lid] = p0;
    red[64u + lid] = p1;
    red[128u + lid] = p2;
    workgroupBarrier();
    for (var width = 32u; width > 0u; width = width >> 1u) {
      if (lid < width) {
        red[lid] = red[lid] + red[lid + width];
        red[64u + lid] = red[64u + lid] + red[64u + lid + width];
        red[128u + lid] = red[128u + lid] + red[128u + lid + width];
      }
      workgroupBarrier();
    }
    let v11 = red[0u];
    let v12 = red[64u + 0u];
    let v13 = red[128u + 0u];
    workgroupBarrier();
    if (lid == 0u) {
      let v14 = (out7[0u] + v11);
      out7[0u] = v14;
      let v15 = (out8[0u] + v12);
      out8[0u] = v15;
      let v16 = (out9[0u] + v13);
      out9[0u] = v16;
    }
  }
}

// kernel whole_step_2
@group(0) @binding(0) var<storage, read> in0: array<f32>;
@group(0) @binding(1) var<storage, read> in1: array<f32>;
@group(0) @binding(2) var<storage, read> in2: array<f32>;
@group(0) @binding(3) var<storage, read> in3: array<f32>;
@group(0) @binding(4) var<storage, read> in4: array<f32>;
@group(0) @binding(5) var<storage, read_write> out5: array<f32>;
var<workgroup> w10: array<f32, 12>;

@compute @workgroup_size(64)
fn main(@builtin(local_invocation_index) lid: u32) {
  {
    for (var e = lid; e < 12u; e += 64u) {
      let row = (e / 3u) % 4u;
      let col = e % 3u;
      var acc = 0.0;
      for (var k = 0u; k < 2u; k++) {
        acc = fma(in1[(row) * 2u + k], in2[(k) * 3u + col], acc);
      }
      {
        let idx = (row) * 3u + col;
        let v0 = (acc + in0[(idx % 3u)]);
        let v1 = select(exp(v0) / (1.0 + exp(v0)), 1.0 / (1.0 + exp(-v0)), v0 >= 0.0);
        w10[idx] = v1;
      }
    }
  }
  workgroupBarrier();
  storageBarrier();
  {
    for (var e = lid; e < 4u; e += 64u) {
      let row = (e / 1u) % 4u;
      let col = e % 1u;
      var acc = 0.0;
      for (var k = 0u; k < 3u; k++) {
        acc = fma(w10[(row) * 3u + k], in4[(k) * 1u + col], acc);
      }
      {
        let idx = (row) * 1u + col;
        let v0 = (acc + in3[0u]);
        let v1 = select(exp(v0) / (1.0 + exp(v0)), 1.0 / (1.0 + exp(-v0)), v0 >= 0.0);
        out5[idx] = v1;
      }
    }
  }
}
