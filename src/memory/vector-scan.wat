;; Retrieval's vector scans, with WASM SIMD. Built into vector-scan-wasm.ts by scripts/build-wasm.mjs.
;; Three precisions, coarse to exact (see vector-store.ts for the layouts):
;;   fastscan: 2-bit codes of every vector, scored against per-query lookup tables (u16 sums);
;;   collect: per group, the slots whose coarse score reaches the group's threshold;
;;   dots8 / dots: int8 and then f32 dot products with a list of chosen slots.
(module
  (memory (export "memory") 1)

  ;; Coarse scores of vectors in blocks of 16. Block b holds $bytes code bytes per vector, transposed:
  ;; byte j of the block's 16 vectors are the 16 bytes at $codes + 16 * ($bytes * b + j). Each nibble
  ;; indexes a 16-entry u8 table (byte j: low nibble at $tables + 32j, high at + 16) of values up to 63;
  ;; the sums go out as u16 at $out + 2 * vector. $bytes is a multiple of 2; every sum stays below 65536
  ;; (the caller sizes the table entries so). Sums run in u16 lanes: `even` adds the pair as one u16 (the odd byte lands in
  ;; the high half), `odd` adds the odd bytes alone; even - odd * 256 recovers the even sums.
  (func (export "fastscan") (param $tables i32) (param $codes i32) (param $blocks i32) (param $bytes i32) (param $out i32)
    (local $b i32) (local $j i32) (local $p i32) (local $t i32)
    (local $c v128) (local $r v128) (local $even v128) (local $odd v128) (local $nibble v128)
    (local.set $nibble (v128.const i8x16 15 15 15 15 15 15 15 15 15 15 15 15 15 15 15 15))
    (local.set $p (local.get $codes))
    (block $done
      (loop $block
        (br_if $done (i32.ge_u (local.get $b) (local.get $blocks)))
        (local.set $even (v128.const i64x2 0 0))
        (local.set $odd (v128.const i64x2 0 0))
        (local.set $t (local.get $tables))
        (local.set $j (i32.const 0))
        (loop $byte
          ;; two code bytes per turn: four lookups of at most 63 each still fit a u8 lane
          (local.set $c (v128.load (local.get $p)))
          (local.set $r
            (i8x16.add
              (i8x16.swizzle (v128.load (local.get $t)) (v128.and (local.get $c) (local.get $nibble)))
              (i8x16.swizzle (v128.load offset=16 (local.get $t)) (i8x16.shr_u (local.get $c) (i32.const 4)))))
          (local.set $c (v128.load offset=16 (local.get $p)))
          (local.set $r
            (i8x16.add (local.get $r)
              (i8x16.add
                (i8x16.swizzle (v128.load offset=32 (local.get $t)) (v128.and (local.get $c) (local.get $nibble)))
                (i8x16.swizzle (v128.load offset=48 (local.get $t)) (i8x16.shr_u (local.get $c) (i32.const 4))))))
          (local.set $even (i16x8.add (local.get $even) (local.get $r)))
          (local.set $odd (i16x8.add (local.get $odd) (i16x8.shr_u (local.get $r) (i32.const 8))))
          (local.set $p (i32.add (local.get $p) (i32.const 32)))
          (local.set $t (i32.add (local.get $t) (i32.const 64)))
          (local.set $j (i32.add (local.get $j) (i32.const 2)))
          (br_if $byte (i32.lt_u (local.get $j) (local.get $bytes))))
        (local.set $even (i16x8.sub (local.get $even) (i16x8.shl (local.get $odd) (i32.const 8))))
        (v128.store (local.get $out)
          (i8x16.shuffle 0 1 16 17 2 3 18 19 4 5 20 21 6 7 22 23 (local.get $even) (local.get $odd)))
        (v128.store offset=16 (local.get $out)
          (i8x16.shuffle 8 9 24 25 10 11 26 27 12 13 28 29 14 15 30 31 (local.get $even) (local.get $odd)))
        (local.set $out (i32.add (local.get $out) (i32.const 32)))
        (local.set $b (i32.add (local.get $b) (i32.const 1)))
        (br $block))))

  ;; The group of vector $i: its u16 tag at $tags + 2i mapped through the u16 table at $map; 65535 (an
  ;; empty slot or a group not asked for) means none, returned as -1.
  (func $group (param $tags i32) (param $map i32) (param $i i32) (result i32)
    (local $tag i32)
    (local.set $tag (i32.load16_u (i32.add (local.get $tags) (i32.shl (local.get $i) (i32.const 1)))))
    (if (i32.eq (local.get $tag) (i32.const 65535)) (then (return (i32.const -1))))
    (local.set $tag (i32.load16_u (i32.add (local.get $map) (i32.shl (local.get $tag) (i32.const 1)))))
    (if (result i32) (i32.eq (local.get $tag) (i32.const 65535)) (then (i32.const -1)) (else (local.get $tag))))

;; Appends the index of each vector whose coarse score reaches its group's threshold (u16 at $thresholds
  ;; + 2g) to that group's list: the i32 at $ends + 4g is the byte address to write the next index at.
  ;; Scores are tested 8 at a time against the lowest threshold ($lowest); few pass it.
  (func (export "collect") (param $scores i32) (param $tags i32) (param $map i32) (param $n i32) (param $thresholds i32) (param $lowest i32) (param $ends i32)
    (local $i i32) (local $k i32) (local $g i32) (local $score i32) (local $end i32) (local $low v128)
    (local.set $low (i16x8.splat (local.get $lowest)))
    (block $done
      (loop $eight
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (if (v128.any_true
              (i16x8.eq (i16x8.max_u (v128.load (i32.add (local.get $scores) (i32.shl (local.get $i) (i32.const 1)))) (local.get $low))
                (v128.load (i32.add (local.get $scores) (i32.shl (local.get $i) (i32.const 1))))))
          (then
            (local.set $k (local.get $i))
            (loop $lane
              (local.set $g (call $group (local.get $tags) (local.get $map) (local.get $k)))
              (local.set $score (i32.load16_u (i32.add (local.get $scores) (i32.shl (local.get $k) (i32.const 1)))))
              (if (i32.and (i32.ge_s (local.get $g) (i32.const 0)) (i32.lt_u (local.get $k) (local.get $n)))
                (then
                  (if (i32.ge_u (local.get $score) (i32.load16_u (i32.add (local.get $thresholds) (i32.shl (local.get $g) (i32.const 1)))))
                    (then
                      (local.set $g (i32.add (local.get $ends) (i32.shl (local.get $g) (i32.const 2))))
                      (local.set $end (i32.load (local.get $g)))
                      (i32.store (local.get $end) (local.get $k))
                      (i32.store (local.get $g) (i32.add (local.get $end) (i32.const 4)))))))
              (local.set $k (i32.add (local.get $k) (i32.const 1)))
              (br_if $lane (i32.lt_u (local.get $k) (i32.add (local.get $i) (i32.const 8)))))))
        (local.set $i (i32.add (local.get $i) (i32.const 8)))
        (br $eight))))

  ;; int8 dot products: the query as i16 ($chunks × 16 values at $query) with the i8 records of the $n
  ;; slots listed (i32) at $slots, each scaled by its f32 at $scales + 4 slot, as f32 at $out + 4k.
  (func (export "dots8") (param $query i32) (param $records i32) (param $stride i32) (param $slots i32) (param $n i32) (param $chunks i32) (param $scales i32) (param $out i32)
    (local $k i32) (local $j i32) (local $slot i32) (local $p i32) (local $q i32) (local $x v128) (local $acc v128)
    (block $done
      (loop $each
        (br_if $done (i32.ge_u (local.get $k) (local.get $n)))
        (local.set $slot (i32.load (i32.add (local.get $slots) (i32.shl (local.get $k) (i32.const 2)))))
        (local.set $p (i32.add (local.get $records) (i32.mul (local.get $slot) (local.get $stride))))
        (local.set $q (local.get $query))
        (local.set $acc (v128.const i64x2 0 0))
        (local.set $j (i32.const 0))
        (block $chunks_done
          (loop $chunk
            (br_if $chunks_done (i32.ge_u (local.get $j) (local.get $chunks)))
            (local.set $x (v128.load (local.get $p)))
            (local.set $acc
              (i32x4.add (local.get $acc)
                (i32x4.add
                  (i32x4.dot_i16x8_s (i16x8.extend_low_i8x16_s (local.get $x)) (v128.load (local.get $q)))
                  (i32x4.dot_i16x8_s (i16x8.extend_high_i8x16_s (local.get $x)) (v128.load offset=16 (local.get $q))))))
            (local.set $p (i32.add (local.get $p) (i32.const 16)))
            (local.set $q (i32.add (local.get $q) (i32.const 32)))
            (local.set $j (i32.add (local.get $j) (i32.const 1)))
            (br $chunk)))
        (f32.store
          (i32.add (local.get $out) (i32.shl (local.get $k) (i32.const 2)))
          (f32.mul
            (f32.convert_i32_s
              (i32.add
                (i32.add (i32x4.extract_lane 0 (local.get $acc)) (i32x4.extract_lane 1 (local.get $acc)))
                (i32.add (i32x4.extract_lane 2 (local.get $acc)) (i32x4.extract_lane 3 (local.get $acc)))))
            (f32.load (i32.add (local.get $scales) (i32.shl (local.get $slot) (i32.const 2))))))
        (local.set $k (i32.add (local.get $k) (i32.const 1)))
        (br $each))))

  ;; f32 dot products of the query's values (at $query, $lanes f32x4s) with the records whose indices are
  ;; the $n i32s at $slots (each $stride bytes), as f32 at $out + 4k.
  (func (export "dots") (param $query i32) (param $records i32) (param $slots i32) (param $n i32) (param $lanes i32) (param $stride i32) (param $out i32)
    (local $k i32) (local $j i32) (local $p i32) (local $q i32) (local $acc v128)
    (block $done
      (loop $slot
        (br_if $done (i32.ge_u (local.get $k) (local.get $n)))
        (local.set $p
          (i32.add (local.get $records)
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
