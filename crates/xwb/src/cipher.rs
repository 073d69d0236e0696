//! The broker's substitution cipher, `ENCRYP^XUSRB1` / `DECRYP^XUSRB1`.
//!
//! Clients encrypt the `access;verify` pair for `XUS AV CODE`, the option
//! name for `XWB CREATE CONTEXT` and electronic-signature codes. It is an
//! obfuscation, not security: the table is public in `XUSRB1.m` and in every
//! client.
//!
//! The table ([`PAD`]) has 20 rows, each a permutation of the 94 printable
//! ASCII characters `' '..='~'` except `^`. To encrypt, VistA picks two
//! different rows, the *identifier* `i` and the *associator* `a` (1-based):
//!
//! ```text
//! encrypt(s) = chr(i + 31) + translate(s, from: row i, to: row a) + chr(a + 31)
//! decrypt(c) = translate(c[1..len-1], from: row a, to: row i)
//!              where i = ord(c[0]) - 31, a = ord(c[len-1]) - 31
//! ```
//!
//! `translate` replaces each character found in the *from* row by the
//! character at the same position in the *to* row (M `$TRANSLATE`);
//! characters not in the table (`^`, control and non-ASCII characters) pass
//! through unchanged. This is `Q $C(IDIX+31)_$TR(S,IDSTR,ASSOCSTR)_$C(ASSOCIX+31)`
//! in `ENCRYP^XUSRB1`; the Delphi broker (`XWBHash`) and other clients write
//! the same thing with 0-based rows and `+32`.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// The VA cipher table: the `Z` lines of `XUSRB1.m` (rows 1..=20 are
/// `PAD[0]..=PAD[19]`), as shipped in VA VistA, FOIA VistA and the VEHU
/// images, and carried by CPRS/`XWBHash` (`vistaCipherPad`) and the
/// open-source clients.
pub const PAD: [&str; 20] = [
    "wkEo-ZJt!dG)49K{nX1BS$vH<&:Myf*>Ae0jQW=;|#PsO`'%+rmb[gpqN,l6/hFC@DcUa ]z~R}\"V\\iIxu?872.(TYL5_3",
    "rKv`R;M/9BqAF%&tSs#Vh)dO1DZP> *fX'u[.4lY=-mg_ci802N7LTG<]!CWo:3?{+,5Q}(@jaExn$~p\\IyHwzU\"|k6Jeb",
    "\\pV(ZJk\"WQmCn!Y,y@1d+~8s?[lNMxgHEt=uw|X:qSLjAI*}6zoF{T3#;ca)/h5%`P4$r]G'9e2if_>UDKb7<v0&- RBO.",
    "depjt3g4W)qD0V~NJar\\B \"?OYhcu[<Ms%Z`RIL_6:]AX-zG.#}$@vk7/5x&*m;(yb2Fn+l'PwUof1K{9,|EQi>H=CT8S!",
    "NZW:1}K$byP;jk)7'`x90B|cq@iSsEnu,(l-hf.&Y_?J#R]+voQXU8mrV[!p4tg~OMez CAaGFD6H53%L/dT2<*>\"{\\wI=",
    "vCiJ<oZ9|phXVNn)m K`t/SI%]A5qOWe\\&?;jT~M!fz1l>[D_0xR32c*4.P\"G{r7}E8wUgyudF+6-:B=$(sY,LkbHa#'@Q",
    "hvMX,'4Ty;[a8/{6l~F_V\"}qLI\\!@x(D7bRmUH]W15J%N0BYPkrs&9:$)Zj>u|zwQ=ieC-oGA.#?tfdcO3gp`S+En K2*<",
    "jd!W5[];4'<C$/&x|rZ(k{>?ghBzIFN}fAK\"#`p_TqtD*1E37XGVs@0nmSe+Y6Qyo-aUu%i8c=H2vJ\\) R:MLb.9,wlO~P",
    "2ThtjEM+!=xXb)7,ZV{*ci3\"8@_l-HS69L>]\\AUF/Q%:qD?1~m(yvO0e'<#o$p4dnIzKP|`NrkaGg.ufCRB[; sJYwW}5&",
    "vB\\5/zl-9y:Pj|=(R'7QJI *&CTX\"p0]_3.idcuOefVU#omwNZ`$Fs?L+1Sk<,b)hM4A6[Y%aDrg@~KqEW8t>H};n!2xG{",
    "sFz0Bo@_HfnK>LR}qWXV+D6`Y28=4Cm~G/7-5A\\b9!a#rP.l&M$hc3ijQk;),TvUd<[:I\"u1'NZSOw]*gxtE{eJp|y (?%",
    "M@,D}|LJyGO8`$*ZqH .j>c~h<d=fimszv[#-53F!+a;NC'6T91IV?(0x&/{B)w\"]Q\\YUWprk4:ol%g2nE7teRKbAPuS_X",
    ".mjY#_0*H<B=Q+FML6]s;r2:e8R}[ic&KA 1w{)vV5d,$u\"~xD/Pg?IyfthO@CzWp%!`N4Z'3-(o|J9XUE7k\\TlqSb>anG",
    "xVa1']_GU<X`|\\NgM?LS9{\"jT%s$}y[nvtlefB2RKJW~(/cIDCPow4,>#zm+:5b@06O3Ap8=*7ZFY!H-uEQk; .q)i&rhd",
    "I]Jz7AG@QX.\"%3Lq>METUo{Pp_ |a6<0dYVSv8:b)~W9NK`(r'4fs&wim\\kReC2hg=HOj$1B*/nxt,;c#y+![?lFuZ-5D}",
    "Rr(Ge6F Hx>q$m&C%M~Tn,:\"o'tX/*yP.{lZ!YkiVhuw_<KE5a[;}W0gjsz3]@7cI2\\QN?f#4p|vb1OUBD9)=-LJA+d`S8",
    "I~k>y|m};d)-7DZ\"Fe/Y<B:xwojR,Vh]O0Sc[`$sg8GXE!1&Qrzp._W%TNK(=J 3i*2abuHA4C'?Mv\\Pq{n#56LftUl@9+",
    "~A*>9 WidFN,1KsmwQ)GJM{I4:C%}#Ep(?HB/r;t.&U8o|l['Lg\"2hRDyZ5`nbf]qjc0!zS-TkYO<_=76a\\X@$Pe3+xVvu",
    "yYgjf\"5VdHc#uA,W1i+v'6|@pr{n;DJ!8(btPGaQM.LT3oe?NB/&9>Z`-}02*%x<7lsqz4OS ~E$\\R]KI[:UwC_=h)kXmF",
    "5:iar.{YU7mBZR@-K|2 \"+~`M%8sq4JhPo<_X\\Sg3WC;Tuxz,fvEQ1p9=w}FAI&j/keD0c?)LN6OHV]lGy'$*>nd[(tb!#",
];

/// The alternative table some OSEHRA/WorldVistA builds of `XUSRB1.m` carry
/// (`osehraCipherPad` in the Delphi broker's `XWBHash`). A server must use
/// the same table as its clients; [`PAD`] is the default everywhere.
pub const OSEHRA_PAD: [&str; 20] = [
    "VEB_0|=f3Y}m<5i$`W>znGA7P:O%H69[2r)jKh@uo\\wMb*Da !+T?q4-JI#d;8ypUQ]g\"~'&Cc.LNt/kX,e{vl1FRZs(xS",
    "D/Jg><p]1W6Rtqr.QYo8TBEMK-aAIyO(xG7lPz;=d)N}2F!U ,e0~$fk\"j[m*3s5@XnZShv+`b'{u&_\\9%|wL4ic:V?H#C",
    "?lBUvZq\\fwk+u#:50`SOF9,dp&*G-M=;{8Ai6/N7]bQ1szC!(PxW_YV~)3Lm.EIXD2aT|hKj$rnR@[\"c g'<>t%4oJHy}e",
    "MH,t9K%TwA17-Bzy+XJU?<>4mo @=6:Ipfnx/Y}R8Q\\aN~{)VjEW;|Sq]rl[0uLFd`g5Z#e!3$b\"P_.si&G(2'Cvkc*ODh",
    "vMy>\"X?bSLCl)'jhzHJk.fVc6#*[0OuP@\\{,&r(`Es:K!7wi$5F; DoY=p%e<t}4TQA2_W9adR]gNBG1~nIZ+3x-Um|8q/",
    ":\"XczmHx;oA%+vR$Mtr CBTU_w<uEK5f,SW*d8OaFGh]j'{7-~Qp#yqP>09si|VY1J!/[lN23&L4`=.D6)ZIb\\n?}(ek@g",
    "j7Qh[YU.u6~xm<`vfe%_g-MRF(#iK=trl}C)>GEDN *$OdHzBA98aLJ|2WP:@ko0wy4I/S&,q']5!13XcVs\\?Zp\"+{;Tbn",
    "\\UVZ;.&]%7fGq`*SA=Kv/-Xr1OBHiwhP5ukYo{2\"}d |NsT,>!x6y~cz[C)pe8m9LaRI(MEFlt:Qg#D'n$W04b@_+?j<3J",
    "MgSvV\"U'dj5Yf6K*W)/:z$oi7GJ|t(1Ak=ZC,@]Q0?8DnbE[+L`{mq>;aOR}wcB4sF_e9rh2l\\x<. PyNpu%IT!&3#HX~-",
    "rFkn4Z0cH7)`6Xq|yL #wmuW?Gf!2YES;.B_D=el}hN[M&x(*AasU9otd+{]g>TQjp<:v%5O\"zI\\@$Rb~8i-3/'V1,CJPK",
    "\\'%u+W)mK41L#:A6!;7(\"tnyRlaOe09]3EFd ITf.`@P[Q{B$_iYhZo*kbc|HUgz=D>Svr8x,X~-<NsjM}C/&J?p2wV5qG",
    "QCl_329e+DTp&\\?jNys V]k*M\"X!$Y6[i@g>{RvF'01(45LJZU,:-uAwtB;7|%fx.n`IhSE<OoW~=bdP#/KHzrc)8mG}aq",
    "!{w*PR[B9Oli~T, rFc\"/?ast8=)-_Dgo<E#n4HYA%f'N;0@S7pJ`kGIedM|+C2yjvL5b3K6\\Z]V(.h}umxz>XQ$qUW:1&",
    "}:SHZ|O~A-bcyJ4%'5vM+ ;eo.$B)Vp\\,kTDz1sGL`]*=mg2nxYPd&lErN3[8qF0@u\"a_>wQKI{f6C7?9RX(t#i/U<j!Wh",
    ",ry*|7<1keO:Wi C/zh4IZ>x!F[_(\"Dbu%Hl5Pg=]QG.LKcJ0&ont@+{;ATX6jMwBv?2#f`q\\}VYm'8Es$NpU)dR~S9a3-",
    "h,=/:pJ$@mlY-`bwQ)e3Xt8.RUSMV 2A;j[PN}TE9x~kL&<ns5q>_#c1%K+rIuFoa(zyDWdH]?\\GB0g*4f6\"Z!'v{7|OiC",
    "/$*b.ts0vOx_-o\"l3MHI~}!E`eJimPd>Sn&wzFUh?Kf4)g5X<,8pD:9LA{a[k;'|GyYQ=R2B\\#q+cru6N1W@(C TV]7Z%j",
    "qEoC?YWNtV{Brg,I(i:e7Jd#6m!D8XT\"n[$~1*ZcxL.Kh2s4%Q&ju\\5Gvazw+9pF@k`HA)=U3/< -}'0b;|PfSRl_MO]y>",
    "`@X:!R[\\tY5OBcZPh$rM_a-\"vgJG%|}oIH)wWQ*jDVxlp,'+S zu(&7?>KCn4y1dE02q6b<;F=8]9NAmT{Li3f/esUk.~#",
    "\\Zr';/SMsG76Lj$aBc[#k>u=_O@2J&X{Aft xV4~vz8Q}q)0K.NIpRnYwDhg+<\"H-!(PF:m*]?,WCT|dE9o53%`liUey1b",
];

/// Number of rows in a cipher table.
pub const ROWS: usize = 20;

/// A string that is not a valid encrypted value.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum CipherError {
    /// Fewer than the two row-marker characters.
    #[error("encrypted value is {len} characters; at least 2 are needed")]
    TooShort { len: usize },
    /// A row marker does not name a row 1..=20 (`' '..='3'`).
    #[error("{which} row marker {ch:?} is not chr(31 + 1..=20)")]
    BadRow { which: &'static str, ch: char },
}

/// Encrypts with the VA table and a random pair of different rows.
#[must_use]
pub fn encrypt(plain: &str) -> String {
    encrypt_with_pad(&PAD, plain, None)
}

/// Encrypts with the VA table and the given rows: the output starts with
/// `chr(identifier + 31)`, maps `plain` from row `identifier` to row
/// `associator`, and ends with `chr(associator + 31)`.
///
/// # Panics
///
/// If a row is outside `1..=20` or the two rows are equal (VistA always
/// picks two different rows).
#[must_use]
pub fn encrypt_with(plain: &str, identifier: usize, associator: usize) -> String {
    encrypt_with_pad(&PAD, plain, Some((identifier, associator)))
}

/// Decrypts a value produced by [`encrypt`] (or any broker client).
///
/// Exactly two characters decrypt to the empty string. Like
/// `DECRYP^XUSRB1`, equal row markers are accepted (the body is then
/// returned unchanged).
pub fn decrypt(cipher: &str) -> Result<String, CipherError> {
    decrypt_with_pad(&PAD, cipher)
}

/// [`encrypt`]/[`encrypt_with`] over any table; `rows` is
/// `Some((identifier, associator))` or `None` for a random pair.
///
/// # Panics
///
/// As [`encrypt_with`].
#[must_use]
pub fn encrypt_with_pad(pad: &[&str; 20], plain: &str, rows: Option<(usize, usize)>) -> String {
    let (identifier, associator) = rows.unwrap_or_else(random_rows);
    assert!(
        (1..=ROWS).contains(&identifier) && (1..=ROWS).contains(&associator),
        "cipher rows must be in 1..=20 (got {identifier}, {associator})"
    );
    assert_ne!(identifier, associator, "cipher rows must differ");
    let mut out = String::with_capacity(plain.len() + 2);
    out.push(row_marker(identifier));
    out.extend(translate(plain, pad[identifier - 1], pad[associator - 1]));
    out.push(row_marker(associator));
    out
}

/// [`decrypt`] over any table.
pub fn decrypt_with_pad(pad: &[&str; 20], cipher: &str) -> Result<String, CipherError> {
    let chars: Vec<char> = cipher.chars().collect();
    let (Some(&first), Some(&last)) = (chars.first(), chars.last()) else {
        return Err(CipherError::TooShort { len: 0 });
    };
    if chars.len() < 2 {
        return Err(CipherError::TooShort { len: chars.len() });
    }
    let identifier = row_index(first).ok_or(CipherError::BadRow {
        which: "first (identifier)",
        ch: first,
    })?;
    let associator = row_index(last).ok_or(CipherError::BadRow {
        which: "last (associator)",
        ch: last,
    })?;
    let body: String = chars[1..chars.len() - 1].iter().collect();
    Ok(translate(&body, pad[associator - 1], pad[identifier - 1]).collect())
}

fn row_marker(row: usize) -> char {
    // row is 1..=20, so this is ' '..='3'.
    char::from(u8::try_from(row + 31).unwrap_or(b' '))
}

fn row_index(ch: char) -> Option<usize> {
    let row = usize::try_from(u32::from(ch)).ok()?.checked_sub(31)?;
    (1..=ROWS).contains(&row).then_some(row)
}

/// M `$TRANSLATE(s, from, to)` for equal-length ASCII rows.
fn translate<'a>(s: &'a str, from: &'a str, to: &'a str) -> impl Iterator<Item = char> + 'a {
    let (from, to) = (from.as_bytes(), to.as_bytes());
    s.chars().map(move |c| {
        u8::try_from(c)
            .ok()
            .and_then(|b| from.iter().position(|&f| f == b))
            .map_or(c, |i| char::from(to[i]))
    })
}

/// Two different rows in 1..=20. Not cryptographic (nor is the cipher):
/// std's per-process random hash keys mixed with a counter and the clock.
fn random_rows() -> (usize, usize) {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let mut h = RandomState::new().build_hasher();
    h.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
    h.write_u128(
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos()),
    );
    let r = h.finish();
    let identifier = usize::try_from(r % 20).unwrap_or(0) + 1;
    // An offset of 1..=19 rows guarantees a different associator.
    let offset = usize::try_from((r >> 32) % 19).unwrap_or(0) + 1;
    let associator = (identifier - 1 + offset) % 20 + 1;
    (identifier, associator)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn alphabet() -> Vec<u8> {
        (b' '..=b'~').filter(|&b| b != b'^').collect()
    }

    #[test]
    fn every_row_is_a_permutation_of_the_alphabet() {
        for pad in [&PAD, &OSEHRA_PAD] {
            for (i, row) in pad.iter().enumerate() {
                let mut bytes = row.as_bytes().to_vec();
                assert_eq!(bytes.len(), 94, "row {}", i + 1);
                bytes.sort_unstable();
                assert_eq!(bytes, alphabet(), "row {}", i + 1);
            }
        }
    }

    #[test]
    fn table_checksum() {
        // Sum of all character codes of the VA table, computed independently
        // from XUSRB1.m.
        let sum: u32 = PAD.iter().flat_map(|r| r.bytes()).map(u32::from).sum();
        assert_eq!(sum, 148_220);
        assert!(PAD[0].starts_with("wkEo-ZJt!dG)49K{nX1BS$vH<&:Myf*>Ae0jQW=;|#PsO"));
        assert!(PAD[19].ends_with("lGy'$*>nd[(tb!#"));
        assert!(OSEHRA_PAD[0].starts_with("VEB_0|=f3Y}m<5i$"));
    }

    #[test]
    fn random_rows_are_valid_and_vary() {
        let mut seen = std::collections::HashSet::new();
        for _ in 0..2000 {
            let (i, a) = random_rows();
            assert!((1..=20).contains(&i) && (1..=20).contains(&a) && i != a);
            seen.insert((i, a));
        }
        assert!(seen.len() > 100, "only {} distinct pairs", seen.len());
    }
}
