//! The BPF compiler and our interpreter agree with `Filter::matches` on
//! every frame of every sample capture: Ethernet captures through
//! `Target::Ethernet` on the frame bytes, Linux cooked captures through
//! `Target::Cooked` on the bytes after the cooked header with its protocol
//! field as the ancillary ethertype.

use crate::support::filters::*;
use tracedeck::filter::bpf::{self, Insn, Target};

#[test]
fn compiled_programs_agree_with_user_space() {
    let filters: Vec<_> = EXPRESSIONS
        .iter()
        .map(|e| (*e, tracedeck::filter::parse(e).unwrap()))
        .collect();
    let mut programs = Vec::new();
    let mut unsupported = Vec::new();
    for (expr, f) in &filters {
        let eth = bpf::compile(f, Target::Ethernet);
        let cooked = bpf::compile(f, Target::Cooked);
        for (t, r) in [("ethernet", &eth), ("cooked", &cooked)] {
            if let Err(e) = r {
                unsupported.push(format!("{t}: {expr:?}: {e}"));
            }
        }
        programs.push((expr, f, eth.ok(), cooked.ok()));
    }
    let (mut checked, mut disagreements) = (0u64, Vec::new());
    for path in capture_files() {
        let Ok(frames) = read_capture(&path) else {
            continue;
        };
        for (i, fr) in frames.iter().enumerate() {
            let frame = fr.frame(i as u64);
            let (target_data, wire_len, protocol, cooked) = match fr.link_type {
                1 => (&fr.data[..], fr.orig_len, 0, false),
                113 | 276 => {
                    let (hdr, proto_at) = if fr.link_type == 113 {
                        (16, 14)
                    } else {
                        (20, 0)
                    };
                    let Some(p) = fr.data.get(proto_at..proto_at + 2) else {
                        continue;
                    };
                    if fr.data.len() < hdr {
                        continue;
                    }
                    // Cooked counts `len` as the 16-byte SLL (v1) header plus
                    // the network bytes (the kernel's skb length).
                    let wire = fr.orig_len.saturating_sub(16);
                    (
                        &fr.data[hdr..],
                        wire,
                        u16::from_be_bytes([p[0], p[1]]),
                        true,
                    )
                }
                _ => continue,
            };
            for (expr, f, eth, ck) in &programs {
                let prog = if cooked { ck } else { eth };
                let Some(prog) = prog else { continue };
                let want = f.matches(&frame);
                let got = bpf::run(prog, target_data, wire_len, protocol) != 0;
                checked += 1;
                if want != got && disagreements.len() < 30 {
                    disagreements.push(format!(
                        "{}#{i}: {expr:?}: matches {want}, bpf {got}",
                        path.file_name().unwrap_or_default().to_string_lossy()
                    ));
                }
            }
        }
    }
    eprintln!("checked {checked} (frame, program) pairs; not compiled: {unsupported:#?}");
    assert!(checked > 10_000, "only {checked} checks ran");
    assert!(disagreements.is_empty(), "{}", disagreements.join("\n"));
    // vlan needs the tag, which a live socket does not see; ether[] and
    // ether hosts need a link header, which a cooked socket does not have.
    assert!(unsupported
        .iter()
        .any(|u| u.starts_with("ethernet: \"vlan\"")));
    assert!(unsupported
        .iter()
        .any(|u| u.starts_with("cooked: \"ether[0] & 1 != 0\"")));
    assert!(!unsupported.iter().any(|u| u.contains("\"tcp port 80\"")));
}

#[test]
fn tcp_port_80_compiles_like_tcpdump() {
    let f = tracedeck::filter::parse("tcp port 80").unwrap();
    let prog = bpf::compile(&f, Target::Ethernet).unwrap();
    let text = bpf::disassemble(&prog);
    // IPv4 part as `tcpdump -d`: fragment check, header length, both ports.
    assert!(text.contains("ldh      [12]"), "{text}");
    assert!(text.contains("jset     #0x1fff"), "{text}");
    assert!(text.contains("ldxb     4*([14]&0xf)"), "{text}");
    assert!(text.contains("ldh      [x + 14]"), "{text}");
    assert!(text.contains("ldh      [x + 16]"), "{text}");
    assert!(text.contains("ldh      [54]"), "{text}");
    assert!(text.contains("ret      #262144"), "{text}");
}

#[test]
fn cooked_programs_use_the_ancillary_protocol() {
    let f = tracedeck::filter::parse("ip6").unwrap();
    let prog = bpf::compile(&f, Target::Cooked).unwrap();
    assert_eq!(
        prog[0],
        Insn {
            code: 0x28,
            jt: 0,
            jf: 0,
            k: bpf::SKF_AD_OFF
        }
    );
    assert_eq!(bpf::run(&prog, &[0x60; 40], 40, 0x86dd), bpf::ACCEPT);
    assert_eq!(bpf::run(&prog, &[0x45; 40], 40, 0x0800), 0);
}

#[test]
fn insn_has_the_sock_filter_layout() {
    assert_eq!(std::mem::size_of::<Insn>(), 8);
    assert_eq!(std::mem::align_of::<Insn>(), 4);
    assert_eq!(std::mem::offset_of!(Insn, code), 0);
    assert_eq!(std::mem::offset_of!(Insn, jt), 2);
    assert_eq!(std::mem::offset_of!(Insn, jf), 3);
    assert_eq!(std::mem::offset_of!(Insn, k), 4);
}

#[test]
fn interpreter_follows_kernel_rules() {
    let ld_abs_w = |k| Insn {
        code: 0x20,
        jt: 0,
        jf: 0,
        k,
    };
    let ret_a = Insn {
        code: 0x16,
        jt: 0,
        jf: 0,
        k: 0,
    };
    let ret_k = |k| Insn {
        code: 0x06,
        jt: 0,
        jf: 0,
        k,
    };
    let pkt = [1, 2, 3, 4, 5];
    // In bounds: A = 0x01020304.
    assert_eq!(bpf::run(&[ld_abs_w(0), ret_a], &pkt, 5, 0), 0x0102_0304);
    // Out of bounds: the program ends with 0.
    assert_eq!(bpf::run(&[ld_abs_w(2), ret_k(7)], &pkt, 5, 0), 0);
    // Division by a zero X: 0.
    let div_x = Insn {
        code: 0x3c,
        jt: 0,
        jf: 0,
        k: 0,
    };
    let ld_imm = |k| Insn {
        code: 0x00,
        jt: 0,
        jf: 0,
        k,
    };
    assert_eq!(bpf::run(&[ld_imm(9), div_x, ret_k(7)], &pkt, 5, 0), 0);
    // Falling off the end, bad opcodes and jumps past the end: 0.
    assert_eq!(bpf::run(&[ld_imm(9)], &pkt, 5, 0), 0);
    assert_eq!(
        bpf::run(
            &[Insn {
                code: 0xffff,
                jt: 0,
                jf: 0,
                k: 0
            }],
            &pkt,
            5,
            0
        ),
        0
    );
    assert_eq!(
        bpf::run(
            &[
                Insn {
                    code: 0x05,
                    jt: 0,
                    jf: 0,
                    k: u32::MAX
                },
                ret_k(1)
            ],
            &pkt,
            5,
            0
        ),
        0
    );
    // Scratch memory, tax/txa, len and msh.
    let prog = [
        Insn {
            code: 0x80,
            jt: 0,
            jf: 0,
            k: 0,
        }, // ld len
        Insn {
            code: 0x02,
            jt: 0,
            jf: 0,
            k: 3,
        }, // st M[3]
        Insn {
            code: 0xb1,
            jt: 0,
            jf: 0,
            k: 4,
        }, // ldxb 4*([4]&0xf) = 20
        Insn {
            code: 0x87,
            jt: 0,
            jf: 0,
            k: 0,
        }, // txa
        Insn {
            code: 0x61,
            jt: 0,
            jf: 0,
            k: 3,
        }, // ldx M[3]
        Insn {
            code: 0x0c,
            jt: 0,
            jf: 0,
            k: 0,
        }, // add x
        ret_a,
    ];
    assert_eq!(bpf::run(&prog, &pkt, 1000, 0), 1020);
}

#[test]
fn long_programs_use_trampolines() {
    // 200 hosts: far more than 255 instructions between a test and its
    // targets.
    let expr: Vec<String> = (0..200)
        .map(|i| format!("ip host 10.0.{}.{}", i / 250, i % 250 + 1))
        .collect();
    let f = tracedeck::filter::parse(&expr.join(" or ")).unwrap();
    let prog = bpf::compile(&f, Target::Ethernet).unwrap();
    assert!(prog.len() > 1000);
    let mut pkt = vec![0u8; 60];
    pkt[12] = 0x08;
    pkt[14] = 0x45;
    pkt[26..30].copy_from_slice(&[10, 0, 0, 199]);
    assert_eq!(bpf::run(&prog, &pkt, 60, 0), bpf::ACCEPT);
    pkt[26..30].copy_from_slice(&[10, 0, 0, 251]);
    assert_eq!(bpf::run(&prog, &pkt, 60, 0), 0);
    pkt[26..30].copy_from_slice(&[10, 0, 0, 1]);
    assert_eq!(bpf::run(&prog, &pkt, 60, 0), bpf::ACCEPT);
}
