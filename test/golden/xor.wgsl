// kernel matmul_0
@group(0) @binding(0) var<storage, read> in0: array<f32>;
@group(0) @binding(1) var<storage, read> in1: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;

var<workgroup> tileA: array<array<f32, 16>, 16>;
var<workgroup> tileB: array<array<f32, 16>, 16>;

@compute @workgroup_size(16, 16)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let row = wg.y * 16u + lid.y;
  let col = wg.x * 16u + lid.x;
  var acc = 0.0;
  for (var t = 0u; t < 2u; t += 16u) {
    let ak = t + lid.x;
    let bk = t + lid.y;
    tileA[lid.y][lid.x] = select(0.0, in0[row * 2u + ak], row < 4u && ak < 2u);
    tileB[lid.y][lid.x] = select(0.0, in1[bk * 3u + col], bk < 2u && col < 3u);
    workgroupBarrier();
    for (var j = 0u; j < 16u; j++) {
      acc += tileA[lid.y][j] * tileB[j][lid.x];
    }
    workgroupBarrier();
  }
  if (row < 4u && col < 3u) {
    out[row * 3u + col] = acc;
  }
}

// kernel add_1
@group(0) @binding(0) var<storage, read> in0: array<f32>;
@group(0) @binding(1) var<storage, read> in1: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.x + gid.y * 64u;
  if (i >= 12u) { return; }
  let a = in0[i];
  let b = in1[(i % 3u)];
  out[i] = (a + b);
}

// kernel sigmoid_2
@group(0) @binding(0) var<storage, read> in0: array<f32>;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.x + gid.y * 64u;
  if (i >= 12u) { return; }
  let a = in0[i];
  out[i] = select(exp(a) / (1.0 + exp(a)), 1.0 / (1.0 + exp(-a)), a >= 0.0);
}

// kernel matmul_3
@group(0) @binding(0) var<storage, read> in0: array<f32>;
@group(0) @binding(1) var<storage, read> in1: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;

var<workgroup> tileA: array<array<f32, 16>, 16>;
var<workgroup> tileB: array<array<f32, 16>, 16>;

@compute @workgroup_size(16, 16)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let row = wg.y * 16u + lid.y;
  let col = wg.x * 16u + lid.x;
  var acc = 0.0;
  for (var t = 0u; t < 3u; t += 16u) {
    let ak = t + lid.x;
    let bk = t + lid.y;
    tileA[lid.y][lid.x] = select(0.0, in0[row * 3u + ak], row < 4u && ak < 3u);
    tileB[lid.y][lid.x] = select(0.0, in1[bk * 1u + col], bk < 3u && col < 1u);
    workgroupBarrier();
    for (var j = 0u; j < 16u; j++) {
      acc += tileA[lid.y][j] * tileB[j][lid.x];
    }
    workgroupBarrier();
  }
  if (row < 4u && col < 1u) {
    out[row * 1u + col] = acc;
  }
}

// kernel add_4
@group(0) @binding(0) var<storage, read> in0: array<f32>;
@group(0) @binding(1) var<storage, read> in1: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.x + gid.y * 64u;
  if (i >= 4u) { return; }
  let a = in0[i];
  let b = in1[0u];
  out[i] = (a + b);
}

// kernel sigmoid_5
@group(0) @binding(0) var<storage, read> in0: array<f32>;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.x + gid.y * 64u;
  if (i >= 4u) { return; }
  let a = in0[i];
  out[i] = select(exp(a) / (1.0 + exp(a)), 1.0 / (1.0 + exp(-a)), a >= 0.0);
}

// kernel softplus_6
@group(0) @binding(0) var<storage, read> in0: array<f32>;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.x + gid.y * 64u;
  if (i >= 4u) { return; }
  let a = in0[i];
  out[i] = (max(a, 0.0) + log(1.0 + exp(-abs(a))));
}

// kernel mul_7
@group(0) @binding(0) var<storage, read> in0: array<f32>;
@group(0) @binding(1) var<storage, read> in1: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.x + gid.y * 64u;
  if (i >= 4u) { return; }
  let a = in0[i];
  let b = in1[i];
  out[i] = (a * b);
}

// kernel sub_8
@group(0) @binding(0) var<storage, read> in0: array<f32>;
@group(0) @binding(1) var<storage, read> in1: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.x + gid.y * 64u;
  if (i >= 4u) { return; }
  let a = in0[i];
  let b = in1[i];
  out[i] = (a - b);
}

// kernel sum_9
@group(0) @binding(0) var<storage, read> in0: array<f32>;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.x + gid.y * 64u;
  if (i >= 4u) { return; }
  let base = i;
  var acc = 0.0;
  acc = acc + in0[base];
  out[i] = acc;
}

// kernel sum_10
@group(0) @binding(0) var<storage, read> in0: array<f32>;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.x + gid.y * 64u;
  if (i >= 1u) { return; }
  let base = i;
  var acc = 0.0;
  for (var r0 = 0u; r0 < 4u; r0++) {
    acc = acc + in0[base + r0];
  }
  out[i] = acc;
}

// kernel gt_11
@group(0) @binding(0) var<storage, read> in0: array<f32>;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.x + gid.y * 64u;
  if (i >= 4u) { return; }
  let a = in0[i];
  let b = f32(0.5);
  out[i] = select(0.0, 1.0, a > b);
}

// kernel eq_12
@group(0) @binding(0) var<storage, read> in0: array<f32>;
@group(0) @binding(1) var<storage, read> in1: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.x + gid.y * 64u;
  if (i >= 4u) { return; }
  let a = in0[i];
  let b = in1[i];
  out[i] = select(0.0, 1.0, a == b);
}

// kernel max_13
@group(0) @binding(0) var<storage, read> in0: array<f32>;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.x + gid.y * 64u;
  if (i >= 1u) { return; }
  let a = in0[i];
  let b = f32(1.0);
  out[i] = max(a, b);
}

// kernel div_14
@group(0) @binding(0) var<storage, read> in0: array<f32>;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.x + gid.y * 64u;
  if (i >= 1u) { return; }
  let a = f32(1.0);
  let b = in0[i];
  out[i] = (a / b);
}

// kernel reshape_15
@group(0) @binding(0) var<storage, read> in0: array<f32>;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.x + gid.y * 64u;
  if (i >= 1u) { return; }
  out[i] = in0[i];
}

// kernel broadcast_16
@group(0) @binding(0) var<storage, read> in0: array<f32>;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.x + gid.y * 64u;
  if (i >= 4u) { return; }
  out[i] = in0[0u];
}

// kernel reshape_17
@group(0) @binding(0) var<storage, read> in0: array<f32>;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.x + gid.y * 64u;
  if (i >= 4u) { return; }
  out[i] = in0[i];
}

// kernel neg_18
@group(0) @binding(0) var<storage, read> in0: array<f32>;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.x + gid.y * 64u;
  if (i >= 4u) { return; }
  let a = in0[i];
  out[i] = (-a);
}

// kernel add_19
@group(0) @binding(0) var<storage, read> in0: array<f32>;
@group(0) @binding(1) var<storage, read> in1: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.x + gid.y * 64u;
  if (i >= 4u) { return; }
  let a = in0[i];
  let b = in1[i];
  out[i] = (a + b);
}

// kernel matmul_tB_20
@group(0) @binding(0) var<storage, read> in0: array<f32>;
@group(0) @binding(1) var<storage, read> in1: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;

var<workgroup> tileA: array<array<f32, 16>, 16>;
var<workgroup> tileB: array<array<f32, 16>, 16>;

@compute @workgroup_size(16, 16)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let row = wg.y * 16u + lid.y;
  let col = wg.x * 16u + lid.x;
  var acc = 0.0;
  for (var t = 0u; t < 1u; t += 16u) {
    let ak = t + lid.x;
    let bk = t + lid.y;
    tileA[lid.y][lid.x] = select(0.0, in0[row * 1u + ak], row < 4u && ak < 1u);
    tileB[lid.y][lid.x] = select(0.0, in1[col * 1u + bk], bk < 1u && col < 3u);
    workgroupBarrier();
    for (var j = 0u; j < 16u; j++) {
      acc += tileA[lid.y][j] * tileB[j][lid.x];
    }
    workgroupBarrier();
  }
  if (row < 4u && col < 3u) {
    out[row * 3u + col] = acc;
  }
}

// kernel matmul_tA_21
@group(0) @binding(0) var<storage, read> in0: array<f32>;
@group(0) @binding(1) var<storage, read> in1: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;

var<workgroup> tileA: array<array<f32, 16>, 16>;
var<workgroup> tileB: array<array<f32, 16>, 16>;

@compute @workgroup_size(16, 16)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let row = wg.y * 16u + lid.y;
  let col = wg.x * 16u + lid.x;
  var acc = 0.0;
  for (var t = 0u; t < 4u; t += 16u) {
    let ak = t + lid.x;
    let bk = t + lid.y;
    tileA[lid.y][lid.x] = select(0.0, in0[ak * 3u + row], row < 3u && ak < 4u);
    tileB[lid.y][lid.x] = select(0.0, in1[bk * 1u + col], bk < 4u && col < 1u);
    workgroupBarrier();
    for (var j = 0u; j < 16u; j++) {
      acc += tileA[lid.y][j] * tileB[j][lid.x];
    }
    workgroupBarrier();
  }
  if (row < 3u && col < 1u) {
    out[row * 1u + col] = acc;
  }
}

// kernel sub_22
@group(0) @binding(0) var<storage, read> in0: array<f32>;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.x + gid.y * 64u;
  if (i >= 12u) { return; }
  let a = f32(1.0);
  let b = in0[i];
  out[i] = (a - b);
}

// kernel mul_23
@group(0) @binding(0) var<storage, read> in0: array<f32>;
@group(0) @binding(1) var<storage, read> in1: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.x + gid.y * 64u;
  if (i >= 12u) { return; }
  let a = in0[i];
  let b = in1[i];
  out[i] = (a * b);
}

// kernel sum_24
@group(0) @binding(0) var<storage, read> in0: array<f32>;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.x + gid.y * 64u;
  if (i >= 3u) { return; }
  let base = i;
  var acc = 0.0;
  for (var r0 = 0u; r0 < 4u; r0++) {
    acc = acc + in0[base + r0 * 3u];
  }
  out[i] = acc;
}

// kernel matmul_tA_25
@group(0) @binding(0) var<storage, read> in0: array<f32>;
@group(0) @binding(1) var<storage, read> in1: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;

var<workgroup> tileA: array<array<f32, 16>, 16>;
var<workgroup> tileB: array<array<f32, 16>, 16>;

@compute @workgroup_size(16, 16)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let row = wg.y * 16u + lid.y;
  let col = wg.x * 16u + lid.x;
  var acc = 0.0;
  for (var t = 0u; t < 4u; t += 16u) {
    let ak = t + lid.x;
    let bk = t + lid.y;
    tileA[lid.y][lid.x] = select(0.0, in0[ak * 2u + row], row < 2u && ak < 4u);
    tileB[lid.y][lid.x] = select(0.0, in1[bk * 3u + col], bk < 4u && col < 3u);
    workgroupBarrier();
    for (var j = 0u; j < 16u; j++) {
      acc += tileA[lid.y][j] * tileB[j][lid.x];
    }
    workgroupBarrier();
  }
  if (row < 2u && col < 3u) {
    out[row * 3u + col] = acc;
  }
}

// kernel mul_26
@group(0) @binding(0) var<storage, read> in0: array<f32>;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.x + gid.y * 64u;
  if (i >= 6u) { return; }
  let a = f32(0.10000000149011612);
  let b = in0[i];
  out[i] = (a * b);
}

// kernel mul_27
@group(0) @binding(0) var<storage, read> in0: array<f32>;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.x + gid.y * 64u;
  if (i >= 3u) { return; }
  let a = f32(0.10000000149011612);
  let b = in0[i];
  out[i] = (a * b);
}

// kernel mul_28
@group(0) @binding(0) var<storage, read> in0: array<f32>;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.x + gid.y * 64u;
  if (i >= 1u) { return; }
  let a = f32(0.10000000149011612);
  let b = in0[i];
  out[i] = (a * b);
}

// kernel add_29
@group(0) @binding(0) var<storage, read> in0: array<f32>;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.x + gid.y * 64u;
  if (i >= 1u) { return; }
  let a = out[i];
  let b = in0[i];
  out[i] = (a + b);
}

// kernel sub_30
@group(0) @binding(0) var<storage, read> in0: array<f32>;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.x + gid.y * 64u;
  if (i >= 6u) { return; }
  let a = out[i];
  let b = in0[i];
  out[i] = (a - b);
}

// kernel sub_31
@group(0) @binding(0) var<storage, read> in0: array<f32>;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.x + gid.y * 64u;
  if (i >= 3u) { return; }
  let a = out[i];
  let b = in0[i];
  out[i] = (a - b);
}

// kernel sub_32
@group(0) @binding(0) var<storage, read> in0: array<f32>;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.x + gid.y * 64u;
  if (i >= 1u) { return; }
  let a = out[i];
  let b = in0[i];
  out[i] = (a - b);
}
