;; Retrieval's two scans over stored vectors, with WASM SIMD. Built into vector-scan-wasm.ts by
;; scripts/build-wasm.mjs. Vectors are laid out with a `$stride` in bytes: sign bits in `$per` 16-byte
;; blocks (hamming), unit-length f32 values padded with zeros to whole f32x4s (dots).
(module
  (memory (export "memory") 1)

  ;; Hamming distance between the query's sign bits (at $query) and vectors 0 .. $n-1, as u16 at
  ;; $out + 2i. Popcounts add up per byte lane, so $per is at most 31 (8 × 31 < 256).
  (func (export "hamming") (param $query i32) (param $records i32) (param $n i32) (param $per i32) (param $stride i32) (param $out i32)
    (local $i i32) (local $j i32) (local $p i32) (local $q i32) (local $acc v128)
    (block $done
      (loop $record
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (local.set $acc (v128.const i64x2 0 0))
        (local.set $p (i32.add (local.get $records) (i32.mul (local.get $i) (local.get $stride))))
        (local.set $q (local.get $query))
        (local.set $j (i32.const 0))
        (block $blocks_done
          (loop $block
            (br_if $blocks_done (i32.ge_u (local.get $j) (local.get $per)))
            (local.set $acc
              (i8x16.add (local.get $acc)
                (i8x16.popcnt (v128.xor (v128.load (local.get $p)) (v128.load (local.get $q))))))
            (local.set $p (i32.add (local.get $p) (i32.const 16)))
            (local.set $q (i32.add (local.get $q) (i32.const 16)))
            (local.set $j (i32.add (local.get $j) (i32.const 1)))
            (br $block)))
        (local.set $acc (i32x4.extadd_pairwise_i16x8_u (i16x8.extadd_pairwise_i8x16_u (local.get $acc))))
        (i32.store16
          (i32.add (local.get $out) (i32.shl (local.get $i) (i32.const 1)))
          (i32.add
            (i32.add (i32x4.extract_lane 0 (local.get $acc)) (i32x4.extract_lane 1 (local.get $acc)))
            (i32.add (i32x4.extract_lane 2 (local.get $acc)) (i32x4.extract_lane 3 (local.get $acc)))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $record))))

  ;; Dot products of the query's values (at $query, $lanes f32x4s) with the records whose indices are
  ;; the $n i32s at $slots (values $at bytes into each vector's stride), as f32 at $out + 4k.
  (func (export "dots") (param $query i32) (param $records i32) (param $slots i32) (param $n i32) (param $lanes i32) (param $stride i32) (param $at i32) (param $out i32)
    (local $k i32) (local $j i32) (local $p i32) (local $q i32) (local $acc v128)
    (block $done
      (loop $slot
        (br_if $done (i32.ge_u (local.get $k) (local.get $n)))
        (local.set $p
          (i32.add (i32.add (local.get $records) (local.get $at))
            (i32.mul (i32.load (i32.add (local.get $slots) (i32.shl (local.get $k) (i32.const 2)))) (local.get $stride))))
        (local.set $q (local.get $query))
        (local.set $acc (v128.const i64x2 0 0))
        (local.set $j (i32.const 0))
        (block $lanes_done
          (loop $lane
            (br_if $lanes_done (i32.ge_u (local.get $j) (local.get $lanes)))
            (local.set $acc (f32x4.add (local.get $acc) (f32x4.mul (v128.load (local.get $p)) (v128.load (local.get $q)))))
            (local.set $p (i32.add (local.get $p) (i32.const 16)))
            (local.set $q (i32.add (local.get $q) (i32.const 16)))
            (local.set $j (i32.add (local.get $j) (i32.const 1)))
            (br $lane)))
        (f32.store
          (i32.add (local.get $out) (i32.shl (local.get $k) (i32.const 2)))
          (f32.add
            (f32.add (f32x4.extract_lane 0 (local.get $acc)) (f32x4.extract_lane 1 (local.get $acc)))
            (f32.add (f32x4.extract_lane 2 (local.get $acc)) (f32x4.extract_lane 3 (local.get $acc)))))
        (local.set $k (i32.add (local.get $k) (i32.const 1)))
        (br $slot)))))
