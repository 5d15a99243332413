// kernel matmul_add_sigmoid_0
@group(0) @binding(0) var<storage, read> in0: array<f32>;
@group(0) @binding(1) var<storage, read> in1: array<f32>;
@group(0) @binding(2) var<storage, read> in2: array<f32>;
@group(0) @binding(3) var<storage, read_write> out3: array<f32>;

@compute @workgroup_size(4, 16)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let row0 = gid.y * 4u;
  let col0 = gid.x * 4u;
  if (row0 >= 4u || col0 >= 3u) { return; }
  let r0 = min(row0 + 0u, 3u);
  let r1 = min(row0 + 1u, 3u);
  let r2 = min(row0 + 2u, 3u);
  let r3 = min(row0 + 3u, 3u);
  let c0 = min(col0 + 0u, 2u);
  let c1 = min(col0 + 1u, 2u);
  let c2 = min(col0 + 2u, 2u);
  let c3 = min(col0 + 3u, 2u);
  var acc0_0 = 0.0;
  var acc0_1 = 0.0;
  var acc0_2 = 0.0;
  var acc0_3 = 0.0;
  var acc1_0 = 0.0;
  var acc1_1 = 0.0;
  var acc1_2 = 0.0;
  var acc1_3 = 0.0;
  var acc2_0 = 0.0;
  var acc2_1 = 0.0;
  var acc2_2 = 0.0;
  var acc2_3 = 0.0;
  var acc3_0 = 0.0;
  var acc3_1 = 0.0;
  var acc3_2 = 0.0;
  var acc3_3 = 0.0;
  for (var k = 0u; k < 2u; k++) {
    let a0 = in1[(r0) * 2u + k];
    let a1 = in1[(r1) * 2u + k];
    let a2 = in1[(r2) * 2u + k];
    let a3 = in1[(r3) * 2u + k];
    let b0 = in2[(k) * 3u + c0];
    let b1 = in2[(k) * 3u + c1];
    let b2 = in2[(k) * 3u + c2];
    let b3 = in2[(k) * 3u + c3];
    acc0_0 = fma(a0, b0, acc0_0);
    acc0_1 = fma(a0, b1, acc0_1);
    acc0_2 = fma(a0, b2, acc0_2);
    acc0_3 = fma(a0, b3, acc0_3);
    acc1_0 = fma(a1, b0, acc1_0);
    acc1_1 = fma(a1, b1, acc1_1);
    acc1_2 = fma(a1, b2, acc1_2);
    acc1_3 = fma(a1, b3, acc1_3);
    acc2_0 = fma(a2, b0, acc2_0);
    acc2_1 = fma(a2, b1, acc2_1);
    acc2_2 = fma(a2, b2, acc2_2);
    acc2_3 = fma(a2, b3, acc2_3);
    acc3_0 = fma(a3, b0, acc3_0);
    acc3_1 = fma(a3, b1, acc3_1);
    acc3_2 = fma(a3, b2, acc3_2);
    acc3_3 = fma(a3, b3, acc3_3);
  }
  if (row0 + 0u < 4u && col0 + 0u < 3u) { {
  let idx = (row0 + 0u) * 3u + col0 + 0u;
  let v0 = (acc0_0 + in0[(idx % 3u)]);
  let v1 = select(exp(v0) / (1.0 + exp(v0)), 1.0 / (1.0 + exp(-v0)), v0 >= 0.0);
  out3[idx] = v1;
} }
  if (row0 + 0u < 4u && col0 + 1u < 3u) { {
  let idx = (row0 + 0u) * 3u + col0 + 1u;
  let v2 = (acc0_1 + in0[(idx % 3u)]);
  let v3 = select(exp(v2) / (1.0 + exp(v2)), 1.0 / (1.0 + exp(-v2)), v2 >= 0.0);
  out3[idx] = v3;
} }
  if (row0 + 0u < 4u && col0 + 2u < 3u) { {
  let idx = (row0 + 0u) * 3u + col0 + 2u;
  let v4 = (acc0_2 + in0[(idx % 3u)]);
  let v5 = select(exp(v4) / (1.0 + exp(v4)), 1.0 / (1.0 + exp(-v4)), v4 >= 0.0);
  out3[idx] = v5;
} }
  if (row0 + 0u < 4u && col0 + 3u < 3u) { {
  let idx = (row0 + 0u) * 3u + col0 + 3u;
  let v6 = (acc0_3 + in0[(idx % 3u)]);
  let v7 = select(exp(v6) / (1.0 + exp(v6)), 1.0 / (1.0 + exp(-v6)), v6 >= 0.0);
  out3[idx] = v7;
} }
  if (row0 + 1u < 4u && col0 + 0u < 3u) { {
  let idx = (row0 + 1u) * 3u + col0 + 0u;
  let v8 = (acc1_0 + in0[(idx % 3u)]);
  let v9 = select(exp(v8) / (1.0 + exp(v8)), 1.0 / (1.0 + exp(-v8)), v8 >= 0.0);
  out3[idx] = v9;
} }
  if (row0 + 1u < 4u && col0 + 1u < 3u) { {
  let idx = (row0 + 1u) * 3u + col0 + 1u;
  let v10 = (acc1_1 + in0[(idx % 3u)]);
  let v11 = select(exp(v10) / (1.0 + exp(v10)), 1.0 / (1.0 + exp(-v10)), v10 >= 0.0);
  out3[idx] = v11;
} }
  if (row0 + 1u < 4u && col0 + 2u < 3u) { {
  let idx = (row0 + 1u) * 3u + col0 + 2u;
  let v12 = (acc1_2 + in0[(idx % 3u)]);
  let v13 = select(exp(v12) / (1.0 + exp(v12)), 1.0 / (1.0 + exp(-v12)), v12 >= 0.0);
  out3[idx] = v13;
} }
  if (row0 + 1u < 4u && col0 + 3u < 3u) { {
  let idx = (row0 + 1u) * 3u + col0 + 3u;
  let v14 = (acc1_3 + in0[(idx % 3u)]);
  let v15 = select(exp(v14) / (1.0 + exp(v14)), 1.0 / (1.0 + exp(-v14)), v14 >= 0.0);
  out3[idx] = v15;
} }
  if (row0 + 2u < 4u && col0 + 0u < 3u) { {
  let idx = (row0 + 2u) * 3u + col0 + 0u;
  let v16 = (acc2_0 + in0[(idx % 3u)]);
  let v17 = select(exp(v16) / (1.0 + exp(v16)), 1.0 / (1.0 + exp(-v16)), v16 >= 0.0);
  out3[idx] = v17;
} }
  if (row0 + 2u < 4u && col0 + 1u < 3u) { {
  let idx = (row0 + 2u) * 3u + col0 + 1u;
  let v18 = (acc2_1 + in0[(idx % 3u)]);
  let v19 = select(exp(v18) / (1.0 + exp(v18)), 1.0 / (1.0 + exp(-v18)), v18 >= 0.0);
  out3[idx] = v19;
} }
  if (row0 + 2u < 4u && col0 + 2u < 3u) { {
  let idx = (row0 + 2u) * 3u + col0 + 2u;
  let v20 = (acc2_2 + in0[(idx % 3u)]);
  let v21 = select(exp(v20) / (1.0 + exp(v20)), 1.0 / (1.0 + exp(-v20)), v20 >= 0.0);
  out3[idx] = v21;
} }
  if (row0 + 2u < 4u && col0 + 3u < 3u) { {
  let idx = (row0 + 2u) * 3u + col0 + 3u;
  let v22 = (acc2_3 + in0[(idx % 3u)]);
  let v23 = select(exp(v22) / (1.0 + exp(v22)), 1.0 / (1.0 + exp(-v22)), v22 >= 0.0);
  out3[idx] = v23;
} }
  if (row0 + 3u < 4u && col0 + 0u < 3u) { {
  let idx = (row0 + 3u) * 3u + col0 + 0u;
  let v24 = (acc3_0 + in0[(idx % 3u)]);
  let v25 = select(exp(v24) / (1.0 + exp(v24)), 1.0 / (1.0 + exp(-v24)), v24 >= 0.0);
  out3[idx] = v25;
} }
  if (row0 + 3u < 4u && col0 + 1u < 3u) { {
  let idx = (row0 + 3u) * 3u + col0 + 1u;
  let v26 = (acc3_1 + in0[(idx % 3u)]);
  let v27 = select(exp(v26) / (1.0 + exp(v26)), 1.0 / (1.0 + exp(-v26)), v26 >= 0.0);
  out3[idx] = v27;
} }
  if (row0 + 3u < 4u && col0 + 2u < 3u) { {
  let idx = (row0 + 3u) * 3u + col0 + 2u;
  let v28 = (acc3_2 + in0[(idx % 3u)]);
  let v29 = select(exp(v28) / (1.0 + exp(v28)), 1.0 / (1.0 + exp(-v28)), v28 >= 0.0);
  out3[idx] = v29;
} }
  if (row0 + 3u < 4u && col0 + 3u < 3u) { {
  let idx = (row0 + 3u) * 3u + col0 + 3u;
  let v30 = (acc3_3 + in0[(idx % 3u)]);
  let v31 = select(exp(v30) / (1.0 + exp(v30)), 1.0 / (1.0 + exp(-v30)), v30 >= 0.0);
  out3[idx] = v31;
} }
}

// kernel matmul_add_sigmoid_1
@group(0) @binding(0) var<storage, read> in0: array<f32>;
@group(0) @binding(1) var<storage, read> in1: array<f32>;
@group(0) @binding(2) var<storage, read> in2: array<f32>;
@group(0) @binding(3) var<storage, read_write> out3: array<f32>;
@group(0) @binding(4) var<storage, read_write> out4: array<f32>;

@compute @workgroup_size(4, 16)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let row0 = gid.y * 4u;
  let col0 = gid.x * 1u;
  if (row0 >= 4u || col0 >= 1u) { return; }
  let r0 = min(row0 + 0u, 3u);
  let r1 = min(row0 + 1u, 3u);
  let r2 = min(row0 + 2u, 3u);
  let r3 = min(row0 + 3u, 3u);
  let c0 = min(col0 + 0u, 0u);
  var acc0_0 = 0.0;
  var acc1_0 = 0.0;
  var acc2_0 = 0.0;
  var acc3_0 = 0.0;
  for (var k = 0u; k < 3u; k++) {
    let a0 = in1[(r0) * 3u + k];
    let a1 = in1[(r1) * 3u + k];
    let a2 = in1[(r2) * 3u + k];
    let a3 = in1[(r3) * 3u + k];
    let b0 = in2[(k) * 1u + c0];
    acc0_0 = fma(a0, b0, acc0_0);
    acc1_0 = fma(a1, b0, acc1_0);
    acc2_0 = fma(a2, b0, acc2_0);
    acc3_0 = fma(a3, b0, acc3_0);
  }
  if (row0 + 0u < 4u && col0 + 0u < 1u) { {
  let idx = (row0 + 0u) * 1u + col0 + 0u;
  let v0 = (acc0_0 + in0[0u]);
  let v1 = select(exp(v0) / (1.0 + exp(v0)), 1.0 / (1.0 + exp(-v0)), v0 >= 0.0);
  out3[idx] = v0;
  out4[idx] = v1;
} }
  if (row0 + 1u < 4u && col0 + 0u < 1u) { {
  let idx = (row0 + 1u) * 1u + col0 + 0u;
  let v2 = (acc1_0 + in0[0u]);
  let v3 = select(exp(v2) / (1.0 + exp(v2)), 1.0 / (1.0 + exp(-v2)), v2 >= 0.0);
  out3[idx] = v2;
  out4[idx] = v3;
} }
  if (row0 + 2u < 4u && col0 + 0u < 1u) { {
  let idx = (row0 + 2u) * 1u + col0 + 0u;
  let v4 = (acc2_0 + in0[0u]);
  let v5 = select(exp(v4) / (1.0 + exp(v4)), 1.0 / (1.0 + exp(-v4)), v4 >= 0.0);
  out3[idx] = v4;
  out4[idx] = v5;
} }
  if (row0 + 3u < 4u && col0 + 0u < 1u) { {
  let idx = (row0 + 3u) * 1u + col0 + 0u;
  let v6 = (acc3_0 + in0[0u]);
  let v7 = select(exp(v6) / (1.0 + exp(v6)), 1.0 / (1.0 + exp(-v6)), v6 >= 0.0);
  out3[idx] = v6;
  out4[idx] = v7;
} }
}

// kernel rows_softplus_mul_sub_etc_2
@group(0) @binding(0) var<storage, read> in0: array<f32>;
@group(0) @binding(1) var<storage, read> in1: array<f32>;
@group(0) @binding(2) var<storage, read> in2: array<f32>;
@group(0) @binding(3) var<storage, read> in3: array<f32>;
@group(0) @binding(4) var<storage, read_write> out4: array<f32>;
@group(0) @binding(5) var<storage, read_write> out5: array<f32>;
@group(0) @binding(6) var<storage, read_write> out6: array<f32>;
@group(0) @binding(7) var<storage, read_write> out7: array<f32>;
var<workgroup> red: array<f32, 192>;

@compute @workgroup_size(64)
fn main(@builtin(local_invocation_index) lid: u32) {
  var p0 = 0.0;
  var p1 = 0.0;
  var p2 = 0.0;
  for (var r = lid; r < 4u; r += 64u) {
    let v0 = (max(in3[r], 0.0) + log(1.0 + exp(-abs(in3[r]))));
    let v1 = (in0[r] * in3[r]);
    let v2 = (v0 - v1);
    let v3 = v2;
    let v4 = (v3 * in2[r]);
    p0 = p0 + v4;
    let v5 = select(0.0, 1.0, in1[r] > f32(0.5));
    let v6 = select(0.0, 1.0, in0[r] > f32(0.5));
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
    let v20 = (v19 * in0[r]);
    let v21 = v17;
    let v22 = (v21 * in1[r]);
    let v23 = (v20 + v22);
    out7[r] = v23;
  }
  workgroupBarrier();
  if (lid == 0u) {
    out4[0u] = v12;
    let v24 = (out5[0u] + v10);
    out5[0u] = v24;
    let v25 = (out6[0u] + v11);
    out6[0u] = v25;
  }
}

// kernel sum_add_mul_sub_3
@group(0) @binding(0) var<storage, read> in0: array<f32>;
@group(0) @binding(1) var<storage, read> in1: array<f32>;
@group(0) @binding(2) var<storage, read_write> out2: array<f32>;
@group(0) @binding(3) var<storage, read_write> out3: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.x + gid.y * 64u;
  if (i >= 1u) { return; }
  let base = i;
  var acc = 0.0;
  for (var r0 = 0u; r0 < 4u; r0++) {
    acc = acc + in0[base + r0];
  }
  let v0 = (f32(0.10000000149011612) * acc);
  let v1 = (out2[i] - v0);
  let v2 = (out3[i] + in1[i]);
  out2[i] = v1;
  out3[i] = v2;
}

// kernel matmul_sub_mul_4
@group(0) @binding(0) var<storage, read> in0: array<f32>;
@group(0) @binding(1) var<storage, read> in1: array<f32>;
@group(0) @binding(2) var<storage, read> in2: array<f32>;
@group(0) @binding(3) var<storage, read_write> out3: array<f32>;

@compute @workgroup_size(4, 16)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let row0 = gid.y * 4u;
  let col0 = gid.x * 4u;
  if (row0 >= 4u || col0 >= 3u) { return; }
  let r0 = min(row0 + 0u, 3u);
  let r1 = min(row0 + 1u, 3u);
  let r2 = min(row0 + 2u, 3u);
  let r3 = min(row0 + 3u, 3u);
  let c0 = min(col0 + 0u, 2u);
  let c1 = min(col0 + 1u, 2u);
  let c2 = min(col0 + 2u, 2u);
  let c3 = min(col0 + 3u, 2u);
  var acc0_0 = 0.0;
  var acc0_1 = 0.0;
  var acc0_2 = 0.0;
  var acc0_3 = 0.0;
  var acc1_0 = 0.0;
  var acc1_1 = 0.0;
  var acc1_2 = 0.0;
  var acc1_3 = 0.0;
  var acc2_0 = 0.0;
  var acc2_1 = 0.0;
  var acc2_2 = 0.0;
  var acc2_3 = 0.0;
  var acc3_0 = 0.0;
  var acc3_1 = 0.0;
  var acc3_2 = 0.0;
  var acc3_3 = 0.0;
  for (var k = 0u; k < 1u; k++) {
    let a0 = in1[(r0) * 1u + k];
    let a1 = in1[(r1) * 1u + k];
    let a2 = in1[(r2) * 1u + k];
    let a3 = in1[(r3) * 1u + k];
    let b0 = in2[(c0) * 1u + k];
    let b1 = in2[(c1) * 1u + k];
    let b2 = in2[(c2) * 1u + k];
    let b3 = in2[(c3) * 1u + k];
    acc0_0 = fma(a0, b0, acc0_0);
    acc0_1 = fma(a0, b1, acc0_1);
    acc0_2 = fma(a0, b2, acc0_2);
    acc0_3 = fma(a0, b3, acc0_3);
    acc1_0 = fma(a1, b0, acc1_0);
    acc1_1 = fma(a1, b1, acc1_1);
    acc1_2 = fma(a1, b2, acc1_2);
    acc1_3 = fma(a1, b3, acc1_3);
    acc2_0 = fma(a2, b0, acc2_0);
    acc2_1 = fma(a2, b1, acc2_1);
    acc2_2 = fma(a2, b2, acc2_2);
    acc2_3 = fma(a2, b3, acc2_3);
    acc3_0 = fma(a3, b0, acc3_0);
    acc3_1 = fma(a3, b1, acc3_1);
    acc3_2 = fma(a3, b2, acc3_2);
    acc3_3 = fma(a3, b3, acc3_3);
  }
  if (row0 + 0u < 4u && col0 + 0u < 3u) { {
  let idx = (row0 + 0u) * 3u + col0 + 0u;
  let v0 = (f32(1.0) - in0[idx]);
  let v1 = (in0[idx] * v0);
  let v2 = (acc0_0 * v1);
  out3[idx] = v2;
} }
  if (row0 + 0u < 4u && col0 + 1u < 3u) { {
  let idx = (row0 + 0u) * 3u + col0 + 1u;
  let v3 = (f32(1.0) - in0[idx]);
  let v4 = (in0[idx] * v3);
  let v5 = (acc0_1 * v4);
  out3[idx] = v5;
} }
  if (row0 + 0u < 4u && col0 + 2u < 3u) { {
  let idx = (row0 + 0u) * 3u + col0 + 2u;
  let v6 = (f32(1.0) - in0[idx]);
  let v7 = (in0[idx] * v6);
  let v8 = (acc0_2 * v7);
  out3[idx] = v8;
} }
  if (row0 + 0u < 4u && col0 + 3u < 3u) { {
  let idx = (row0 + 0u) * 3u + col0 + 3u;
  let v9 = (f32(1.0) - in0[idx]);
  let v10 = (in0[idx] * v9);
  let v11 = (acc0_3 * v10);
  out3[idx] = v11;
} }
  if (row0 + 1u < 4u && col0 + 0u < 3u) { {
  let idx = (row0 + 1u) * 3u + col0 + 0u;
  let v12 = (f32(1.0) - in0[idx]);
  let v13 = (in0[idx] * v12);
  let v14 = (acc1_0 * v13);
  out3[idx] = v14;
} }
  if (row0 + 1u < 4u && col0 + 1u < 3u) { {
  let idx = (row0 + 1u) * 3u + col0 + 1u;
  let v15 = (f32(1.0) - in0[idx]);
  let v16 = (in0[idx] * v15);
  let v17 = (acc1_1 * v16);
  out3[idx] = v17;
} }
  if (row0 + 1u < 4u && col0 + 2u < 3u) { {
  let idx = (row0 + 1u) * 3u + col0 + 2u;
  let v18 = (f32(1.0) - in0[idx]);
  let v19 = (in0[idx] * v18);
  let v20 = (acc1_2 * v19);
  out3[idx] = v20;
} }
  if (row0 + 1u < 4u && col0 + 3u < 3u) { {
  let idx = (row0 + 1u) * 3u + col0 + 3u;
  let v21 = (f32(1.0) - in0[idx]);
  let v22 = (in0[idx] * v21);
  let v23 = (acc1_3 * v22);
  out3[idx] = v23;
} }
  if (row0 + 2u < 4u && col0 + 0u < 3u) { {
  let idx = (row0 + 2u) * 3u + col0 + 0u;
  let v24 = (f32(1.0) - in0[idx]);
  let v25 = (in0[idx] * v24);
  let v26 = (acc2_0 * v25);
  out3[idx] = v26;
} }
  if (row0 + 2u < 4u && col0 + 1u < 3u) { {
  let idx = (row0 + 2u) * 3u + col0 + 1u;
  let v27 = (f32(1.0) - in0[idx]);
  let v28 = (in0[idx] * v27);
  let v29 = (acc2_1 * v28);
  out3[idx] = v29;
} }
  if (row0 + 2u < 4u && col0 + 2u < 3u) { {
  let idx = (row0 + 2u) * 3u + col0 + 2u;
  let v30 = (f32(1.0) - in0[idx]);
  let v31 = (in0[idx] * v30);
  let v32 = (acc2_2 * v31);
  out3[idx] = v32;
} }
  if (row0 + 2u < 4u && col0 + 3u < 3u) { {
  let idx = (row0 + 2u) * 3u + col0 + 3u;
  let v33 = (f32(1.0) - in0[idx]);
  let v34 = (in0[idx] * v33);
  let v35 = (acc2_3 * v34);
  out3[idx] = v35;
} }
  if (row0 + 3u < 4u && col0 + 0u < 3u) { {
  let idx = (row0 + 3u) * 3u + col0 + 0u;
  let v36 = (f32(1.0) - in0[idx]);
  let v37 = (in0[idx] * v36);
  let v38 = (acc3_0 * v37);
  out3[idx] = v38;
} }
  if (row0 + 3u < 4u && col0 + 1u < 3u) { {
  let idx = (row0 + 3u) * 3u + col0 + 1u;
  let v39 = (f32(1.0) - in0[idx]);
  let v40 = (in0[idx] * v39);
  let v41 = (acc3_1 * v40);
  out3[idx] = v41;
} }
  if (row0 + 3u < 4u && col0 + 2u < 3u) { {
  let idx = (row0 + 3u) * 3u + col0 + 2u;
  let v42 = (f32(1.0) - in0[idx]);
  let v43 = (in0[idx] * v42);
  let v44 = (acc3_2 * v43);
  out3[idx] = v44;
} }
  if (row0 + 3u < 4u && col0 + 3u < 3u) { {
  let idx = (row0 + 3u) * 3u + col0 + 3u;
  let v45 = (f32(1.0) - in0[idx]);
  let v46 = (in0[idx] * v45);
  let v47 = (acc3_3 * v46);
  out3[idx] = v47;
} }
}

// kernel matmul_mul_sub_5
@group(0) @binding(0) var<storage, read> in0: array<f32>;
@group(0) @binding(1) var<storage, read> in1: array<f32>;
@group(0) @binding(2) var<storage, read_write> out2: array<f32>;

@compute @workgroup_size(4, 16)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let row0 = gid.y * 2u;
  let col0 = gid.x * 4u;
  if (row0 >= 2u || col0 >= 3u) { return; }
  let r0 = min(row0 + 0u, 1u);
  let r1 = min(row0 + 1u, 1u);
  let c0 = min(col0 + 0u, 2u);
  let c1 = min(col0 + 1u, 2u);
  let c2 = min(col0 + 2u, 2u);
  let c3 = min(col0 + 3u, 2u);
  var acc0_0 = 0.0;
  var acc0_1 = 0.0;
  var acc0_2 = 0.0;
  var acc0_3 = 0.0;
  var acc1_0 = 0.0;
  var acc1_1 = 0.0;
  var acc1_2 = 0.0;
  var acc1_3 = 0.0;
  for (var k = 0u; k < 4u; k++) {
    let a0 = in0[(k) * 2u + r0];
    let a1 = in0[(k) * 2u + r1];
    let b0 = in1[(k) * 3u + c0];
    let b1 = in1[(k) * 3u + c1];
    let b2 = in1[(k) * 3u + c2];
    let b3 = in1[(k) * 3u + c3];
    acc0_0 = fma(a0, b0, acc0_0);
    acc0_1 = fma(a0, b1, acc0_1);
    acc0_2 = fma(a0, b2, acc0_2);
    acc0_3 = fma(a0, b3, acc0_3);
    acc1_0 = fma(a1, b0, acc1_0);
    acc1_1 = fma(a1, b1, acc1_1);
    acc1_2 = fma(a1, b2, acc1_2);
    acc1_3 = fma(a1, b3, acc1_3);
  }
  if (row0 + 0u < 2u && col0 + 0u < 3u) { {
  let idx = (row0 + 0u) * 3u + col0 + 0u;
  let v0 = (f32(0.10000000149011612) * acc0_0);
  let v1 = (out2[idx] - v0);
  out2[idx] = v1;
} }
  if (row0 + 0u < 2u && col0 + 1u < 3u) { {
  let idx = (row0 + 0u) * 3u + col0 + 1u;
  let v2 = (f32(0.10000000149011612) * acc0_1);
  let v3 = (out2[idx] - v2);
  out2[idx] = v3;
} }
  if (row0 + 0u < 2u && col0 + 2u < 3u) { {
  let idx = (row0 + 0u) * 3u + col0 + 2u;
  let v4 = (f32(0.10000000149011612) * acc0_2);
  let v5 = (out2[idx] - v4);
  out2[idx] = v5;
} }
  if (row0 + 0u < 2u && col0 + 3u < 3u) { {
  let idx = (row0 + 0u) * 3u + col0 + 3u;
  let v6 = (f32(0.10000000149011612) * acc0_3);
  let v7 = (out2[idx] - v6);
  out2[idx] = v7;
} }
  if (row0 + 1u < 2u && col0 + 0u < 3u) { {
  let idx = (row0 + 1u) * 3u + col0 + 0u;
  let v8 = (f32(0.10000000149011612) * acc1_0);
  let v9 = (out2[idx] - v8);
  out2[idx] = v9;
} }
  if (row0 + 1u < 2u && col0 + 1u < 3u) { {
  let idx = (row0 + 1u) * 3u + col0 + 1u;
  let v10 = (f32(0.10000000149011612) * acc1_1);
  let v11 = (out2[idx] - v10);
  out2[idx] = v11;
} }
  if (row0 + 1u < 2u && col0 + 2u < 3u) { {
  let idx = (row0 + 1u) * 3u + col0 + 2u;
  let v12 = (f32(0.10000000149011612) * acc1_2);
  let v13 = (out2[idx] - v12);
  out2[idx] = v13;
} }
  if (row0 + 1u < 2u && col0 + 3u < 3u) { {
  let idx = (row0 + 1u) * 3u + col0 + 3u;
  let v14 = (f32(0.10000000149011612) * acc1_3);
  let v15 = (out2[idx] - v14);
  out2[idx] = v15;
} }
}

// kernel sum_mul_sub_6
@group(0) @binding(0) var<storage, read> in0: array<f32>;
@group(0) @binding(1) var<storage, read_write> out1: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.x + gid.y * 64u;
  if (i >= 3u) { return; }
  let base = i;
  var acc = 0.0;
  for (var r0 = 0u; r0 < 4u; r0++) {
    acc = acc + in0[base + r0 * 3u];
  }
  let v0 = (f32(0.10000000149011612) * acc);
  let v1 = (out1[i] - v0);
  out1[i] = v1;
}

// kernel matmul_mul_sub_7
@group(0) @binding(0) var<storage, read> in0: array<f32>;
@group(0) @binding(1) var<storage, read> in1: array<f32>;
@group(0) @binding(2) var<storage, read_write> out2: array<f32>;

@compute @workgroup_size(4, 16)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let row0 = gid.y * 4u;
  let col0 = gid.x * 1u;
  if (row0 >= 3u || col0 >= 1u) { return; }
  let r0 = min(row0 + 0u, 2u);
  let r1 = min(row0 + 1u, 2u);
  let r2 = min(row0 + 2u, 2u);
  let r3 = min(row0 + 3u, 2u);
  let c0 = min(col0 + 0u, 0u);
  var acc0_0 = 0.0;
  var acc1_0 = 0.0;
  var acc2_0 = 0.0;
  var acc3_0 = 0.0;
  for (var k = 0u; k < 4u; k++) {
    let a0 = in0[(k) * 3u + r0];
    let a1 = in0[(k) * 3u + r1];
    let a2 = in0[(k) * 3u + r2];
    let a3 = in0[(k) * 3u + r3];
    let b0 = in1[(k) * 1u + c0];
    acc0_0 = fma(a0, b0, acc0_0);
    acc1_0 = fma(a1, b0, acc1_0);
    acc2_0 = fma(a2, b0, acc2_0);
    acc3_0 = fma(a3, b0, acc3_0);
  }
  if (row0 + 0u < 3u && col0 + 0u < 1u) { {
  let idx = (row0 + 0u) * 1u + col0 + 0u;
  let v0 = (f32(0.10000000149011612) * acc0_0);
  let v1 = (out2[idx] - v0);
  out2[idx] = v1;
} }
  if (row0 + 1u < 3u && col0 + 0u < 1u) { {
  let idx = (row0 + 1u) * 1u + col0 + 0u;
  let v2 = (f32(0.10000000149011612) * acc1_0);
  let v3 = (out2[idx] - v2);
  out2[idx] = v3;
} }
  if (row0 + 2u < 3u && col0 + 0u < 1u) { {
  let idx = (row0 + 2u) * 1u + col0 + 0u;
  let v4 = (f32(0.10000000149011612) * acc2_0);
  let v5 = (out2[idx] - v4);
  out2[idx] = v5;
} }
  if (row0 + 3u < 3u && col0 + 0u < 1u) { {
  let idx = (row0 + 3u) * 1u + col0 + 0u;
  let v6 = (f32(0.10000000149011612) * acc3_0);
  let v7 = (out2[idx] - v6);
  out2[idx] = v7;
} }
}

// kernel matmul_add_8
@group(0) @binding(0) var<storage, read> in0: array<f32>;
@group(0) @binding(1) var<storage, read> in1: array<f32>;
@group(0) @binding(2) var<storage, read> in2: array<f32>;
@group(0) @binding(3) var<storage, read_write> out3: array<f32>;

@compute @workgroup_size(4, 16)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let row0 = gid.y * 4u;
  let col0 = gid.x * 1u;
  if (row0 >= 4u || col0 >= 1u) { return; }
  let r0 = min(row0 + 0u, 3u);
  let r1 = min(row0 + 1u, 3u);
  let r2 = min(row0 + 2u, 3u);
  let r3 = min(row0 + 3u, 3u);
  let c0 = min(col0 + 0u, 0u);
  var acc0_0 = 0.0;
  var acc1_0 = 0.0;
  var acc2_0 = 0.0;
  var acc3_0 = 0.0;
  for (var k = 0u; k < 3u; k++) {
    let a0 = in1[(r0) * 3u + k];
    let a1 = in1[(r1) * 3u + k];
    let a2 = in1[(r2) * 3u + k];
    let a3 = in1[(r3) * 3u + k];
    let b0 = in2[(k) * 1u + c0];
    acc0_0 = fma(a0, b0, acc0_0);
    acc1_0 = fma(a1, b0, acc1_0);
    acc2_0 = fma(a2, b0, acc2_0);
    acc3_0 = fma(a3, b0, acc3_0);
  }
  if (row0 + 0u < 4u && col0 + 0u < 1u) { {
  let idx = (row0 + 0u) * 1u + col0 + 0u;
  let v0 = (acc0_0 + in0[0u]);
  out3[idx] = v0;
} }
  if (row0 + 1u < 4u && col0 + 0u < 1u) { {
  let idx = (row0 + 1u) * 1u + col0 + 0u;
  let v1 = (acc1_0 + in0[0u]);
  out3[idx] = v1;
} }
  if (row0 + 2u < 4u && col0 + 0u < 1u) { {
  let idx = (row0 + 2u) * 1u + col0 + 0u;
  let v2 = (acc2_0 + in0[0u]);
  out3[idx] = v2;
} }
  if (row0 + 3u < 4u && col0 + 0u < 1u) { {
  let idx = (row0 + 3u) * 1u + col0 + 0u;
  let v3 = (acc3_0 + in0[0u]);
  out3[idx] = v3;
} }
}

// kernel rows_sigmoid_softplus_mul_etc_9
@group(0) @binding(0) var<storage, read> in0: array<f32>;
@group(0) @binding(1) var<storage, read> in1: array<f32>;
@group(0) @binding(2) var<storage, read> in2: array<f32>;
@group(0) @binding(3) var<storage, read_write> out3: array<f32>;
@group(0) @binding(4) var<storage, read_write> out4: array<f32>;
@group(0) @binding(5) var<storage, read_write> out5: array<f32>;
var<workgroup> red: array<f32, 192>;

@compute @workgroup_size(64)
fn main(@builtin(local_invocation_index) lid: u32) {
  var p0 = 0.0;
  var p1 = 0.0;
  var p2 = 0.0;
  for (var r = lid; r < 4u; r += 64u) {
    let v0 = (max(in1[r], 0.0) + log(1.0 + exp(-abs(in1[r]))));
    let v1 = (in0[r] * in1[r]);
    let v2 = (v0 - v1);
    let v3 = v2;
    let v4 = (v3 * in2[r]);
    p0 = p0 + v4;
    let v5 = select(exp(in1[r]) / (1.0 + exp(in1[r])), 1.0 / (1.0 + exp(-in1[r])), in1[r] >= 0.0);
    let v6 = select(0.0, 1.0, v5 > f32(0.5));
    let v7 = select(0.0, 1.0, in0[r] > f32(0.5));
    let v8 = select(0.0, 1.0, v6 == v7);
    let v9 = v8;
    let v10 = (v9 * in2[r]);
    p1 = p1 + v10;
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
  let v11 = red[0u];
  let v12 = red[64u + 0u];
  let v13 = red[128u + 0u];
  workgroupBarrier();
  if (lid == 0u) {
    let v14 = (out3[0u] + v11);
    out3[0u] = v14;
    let v15 = (out4[0u] + v12);
    out4[0u] = v15;
    let v16 = (out5[0u] + v13);
    out5[0u] = v16;
  }
}

// kernel matmul_add_sigmoid_10
@group(0) @binding(0) var<storage, read> in0: array<f32>;
@group(0) @binding(1) var<storage, read> in1: array<f32>;
@group(0) @binding(2) var<storage, read> in2: array<f32>;
@group(0) @binding(3) var<storage, read_write> out3: array<f32>;

@compute @workgroup_size(4, 16)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let row0 = gid.y * 4u;
  let col0 = gid.x * 1u;
  if (row0 >= 4u || col0 >= 1u) { return; }
  let r0 = min(row0 + 0u, 3u);
  let r1 = min(row0 + 1u, 3u);
  let r2 = min(row0 + 2u, 3u);
  let r3 = min(row0 + 3u, 3u);
  let c0 = min(col0 + 0u, 0u);
  var acc0_0 = 0.0;
  var acc1_0 = 0.0;
  var acc2_0 = 0.0;
  var acc3_0 = 0.0;
  for (var k = 0u; k < 3u; k++) {
    let a0 = in1[(r0) * 3u + k];
    let a1 = in1[(r1) * 3u + k];
    let a2 = in1[(r2) * 3u + k];
    let a3 = in1[(r3) * 3u + k];
    let b0 = in2[(k) * 1u + c0];
    acc0_0 = fma(a0, b0, acc0_0);
    acc1_0 = fma(a1, b0, acc1_0);
    acc2_0 = fma(a2, b0, acc2_0);
    acc3_0 = fma(a3, b0, acc3_0);
  }
  if (row0 + 0u < 4u && col0 + 0u < 1u) { {
  let idx = (row0 + 0u) * 1u + col0 + 0u;
  let v0 = (acc0_0 + in0[0u]);
  let v1 = select(exp(v0) / (1.0 + exp(v0)), 1.0 / (1.0 + exp(-v0)), v0 >= 0.0);
  out3[idx] = v1;
} }
  if (row0 + 1u < 4u && col0 + 0u < 1u) { {
  let idx = (row0 + 1u) * 1u + col0 + 0u;
  let v2 = (acc1_0 + in0[0u]);
  let v3 = select(exp(v2) / (1.0 + exp(v2)), 1.0 / (1.0 + exp(-v2)), v2 >= 0.0);
  out3[idx] = v3;
} }
  if (row0 + 2u < 4u && col0 + 0u < 1u) { {
  let idx = (row0 + 2u) * 1u + col0 + 0u;
  let v4 = (acc2_0 + in0[0u]);
  let v5 = select(exp(v4) / (1.0 + exp(v4)), 1.0 / (1.0 + exp(-v4)), v4 >= 0.0);
  out3[idx] = v5;
} }
  if (row0 + 3u < 4u && col0 + 0u < 1u) { {
  let idx = (row0 + 3u) * 1u + col0 + 0u;
  let v6 = (acc3_0 + in0[0u]);
  let v7 = select(exp(v6) / (1.0 + exp(v6)), 1.0 / (1.0 + exp(-v6)), v6 >= 0.0);
  out3[idx] = v7;
} }
}
