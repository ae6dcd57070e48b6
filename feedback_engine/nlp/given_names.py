"""Common given names: the 1,549 most frequent in the US Census 1990 name files (public domain; the
700 male and 1,000 female names read from the ``names`` 0.3.0 sdist on PyPI), less everyday words,
flowers, months and virtues (Rose, June, Grace, Will) and towns (Austin, Charlotte, Tyler).

Used by :mod:`feedback_engine.nlp.redact` for one rule: a given name followed by a capitalised word
that is not an everyday or product word is a person ("Tom Brady", "Chris Urmson"), whether or not
the small spaCy model tagged it; and a one-word name that is a given name is not taken for a
medicine. International given names are thin here (the Census counts US residents).
"""

from __future__ import annotations

__all__ = ["GIVEN_NAMES"]


def _words(block: str) -> list[str]:
    return block.split()


GIVEN_NAMES: frozenset[str] = frozenset(
    _words("""
aaron abby abel abigail abraham ada adam addie adela adele adeline adolfo adolph adrian adriana adrienne agnes
agustin aida aileen aimee aisha alan alana alba albert alberta alberto alejandra alejandro alex alexander
alexandra alexis alfonso alfred alfreda alfredo ali alice alicia aline alisa alisha alison alissa allan allen
allie allison allyson alma alonzo alphonso alta althea alton alvaro alvin alyce alyson alyssa amalia amanda
amelia amie amos amparo amy ana anastasia andre andrea andres andrew andy angela angelia angelica angelina
angeline angelique angelita angelo angie anita ann anna annabelle anne annette annie annmarie anthony antoine
antoinette anton antonia antonio araceli archie arlene arline armand armando arnold arthur arturo ashlee ashley
aubrey audra audrey aurelia ava avery avis barbara barbra barry bart basil beatrice beatriz becky belinda ben
benita benito benjamin bennie benny bernadette bernadine bernard bernardo bernice bert berta bertha bertie beryl
bessie beth bethany betsy bette bettie betty bettye beulah beverley beverly bianca billie billy blaine blake
blanca blanche bob bobbi bobbie bobby bonita boyd brad bradford bradley brady brain brandi brandie brandon
brenda brendan brent bret brett brian briana brianna bridget bridgett bridgette brigitte britney brittany
brittney brooke bruce bruno bryan bryant bryce bryon buddy burton byron caitlin caleb callie calvin cameron
camille candace candice cara carey carissa carl carla carlene carlos carlton carly carmela carmella carmen
carole caroline carolyn carrie carroll cary casandra casey cassandra cassie catalina catherine cathleen cathryn
cathy cecelia cecil cecile cecilia cedric celeste celia celina cesar chad chandra charlene charles charlie
charmaine chasity cheri cherie cheryl chester chris christa christi christie christina christine christopher
christy chrystal chuck cindy claire clara clare clarence clarice clarissa clark claude claudette claudia
claudine clay clayton clement cleo cleveland clifford clifton clint clinton clyde cody cole coleen colette colin
colleen concepcion concetta connie conrad constance consuelo cora corey corina corine corinne cornelia cornelius
corrine cory courtney coy craig cristina curt curtis cynthia damian damien damon dan dana dane daniel danielle
danny dante daphne darcy darin darius darla darlene darnell darrel darrell darren darrin darryl darwin daryl
dave david davis dean deana deann deanna deanne debbie debora deborah debra dee deena deidre deirdre delbert
delia della delores deloris demetrius dena denis denise dennis denny derek derick derrick desiree desmond devin
devon dewayne dewey dexter diana diane diann dianna dianne diego dina dion dionne dixie dollie dolly dolores
domingo dominic dominick dominique don dona donald donna donnell donnie donovan dora doreen doris dorothea
dorothy dorthy doug douglas doyle duane dudley dustin dwayne dwight dylan earlene earline earnest earnestine
ebony eddie eddy edgar edith edmond edmund edna eduardo edward edwin edwina effie efrain eileen elaine elba
elbert eldon eleanor elena eli elias elijah elinor elisa elisabeth elise eliza elizabeth ella ellen elliot
elliott ellis elma elmer elnora eloise elsa elsie elton elva elvia elvin elvira elvis elwood emanuel emery emil
emilia emilio emily emma emmanuel emmett enid enrique eric erica erick ericka erik erika erin erma erna ernest
ernestine ernesto ernie ervin erwin esmeralda esperanza essie esteban estela estella estelle ester esther ethan
ethel etta eugene eugenia eula eunice eva evan evangelina evangeline evelyn everett fabian fannie fanny fay
federico felecia felicia felipe felix fernando fidel flora florine flossie floyd forrest fran frances francesca
francine francis francisca francisco frankie franklin fred freda freddie freddy frederick fredrick freida frieda
gabriel gabriela gabrielle garland garrett garry gary gavin gayle gena gene genevieve geoffrey george georgette
georgina gerald geraldine gerard gerardo gerry gertrude gilbert gilberto gilda gina gladys glenda glenn glenna
gloria gonzalo gordon gracie graciela grady graham grant greg gregg gregorio gregory greta gretchen grover
guadalupe guillermo gus gustavo gwen gwendolyn hal haley hallie hannah hans harlan harley harold harriet
harriett harrison harry harvey hattie heath hector heidi helen helene helga henrietta henry herbert heriberto
herman herminia hester hilary hilda hillary hiram hollie homer horace howard hubert hugh hugo humberto ian ida
ignacio ila ilene imelda imogene ina ines inez ingrid ira irene irma irvin irving isaac isabel isabella isabelle
isaiah ismael israel issac iva ivan jackie jacklyn jaclyn jacob jacqueline jacquelyn jaime jake jamal james jami
jamie jan jana jane janell janelle janet janette janice janie janine janis janna jannie jared jarrod jarvis
jason jasper javier jay jayne jayson jean jeanette jeanie jeanine jeanne jeannette jeannie jeannine jeff
jefferson jeffery jeffrey jeffry jenifer jenna jennie jennifer jenny jerald jeremiah jeremy jeri jermaine jerome
jerri jerry jess jesse jessica jessie jesus jewel jewell jill jillian jim jimmie jimmy joan joann joanna joanne
joaquin jocelyn jodi jodie jody joe joel joesph joey johanna john johnathan johnnie johnny jolene jon jonathan
jonathon joni jordan jorge jose josefa josefina joseph josephine josh joshua josie joyce juan juana juanita
judith judy julia julian juliana julianne julie juliet juliette julio julius junior justin justine kaitlin kara
karen kari karin karina karl karla karyn kasey kate katelyn katharine katherine katheryn kathie kathleen
kathrine kathryn kathy katie katina katrina katy kay kaye kayla keisha keith kelley kelli kellie kelly kelsey
kelvin ken kendall kendra kendrick kenneth kenny kenya keri kermit kerri kerry kevin kim kimberley kimberly kirk
kirsten kris krista kristen kristi kristie kristin kristina kristine kristopher kristy krystal kurt kyle lacey
ladonna lakeisha lakisha lamar lamont lana lance lara larry latasha latisha latonya latoya laura laurel lauren
laurence lauri laurie laverne lavonne lawanda lawrence lea leah leann leanna leanne lee leigh leila lela leland
lelia lena lenora lenore leo leola leon leona leonard leonardo leonor leroy lesa lesley leslie lessie lester
leta letha leticia letitia levi lewis lidia lila lilia lilian liliana lillian lillie lilly lina linda lindsay
lindsey lionel lisa liz liza lizzie lloyd logan lois lola lolita lonnie lora loraine loren lorena lorene lorenzo
loretta lori lorie lorna lorraine lorrie lottie lou louella louie louis louisa louise lourdes lowell loyd luann
lucas lucia lucile lucille lucinda lucy luella luis luisa luke lula lupe luther luz lydia lyle lynda lynette
lynn lynne lynnette mabel mable mack madeleine madeline madelyn madge magdalena maggie mai malcolm malinda
mallory mamie mandy manuel manuela mara marc marcel marcella marci marcia marcie marco marcos marcus marcy
margaret margarita margery margie margo margret marguerite mari maria marian mariana marianne maribel maricela
marie marietta marilyn marina mario marion marisa marisol marissa maritza marjorie marla marlene marlin marlon
marquita marsha marta martha martin martina marty marva marvin mary maryann maryanne maryellen marylou mason
mathew matilda matt matthew mattie maude maura maureen maurice mauricio mavis max maxine maxwell maynard mayra
meagan megan meghan melanie melba melinda melisa melissa melody melva melvin mercedes meredith merle mia micah
michael micheal michel michele michelle mickey miguel mike milagros mildred millard millicent millie milton
mindy minerva minnie miranda miriam mitchell mitzi moises mollie molly mona monica monique monte monty morgan
morris moses muriel murray myra myrna myron myrtle nadia nadine nancy nanette nannie naomi natalia natalie
natasha nathan nathaniel neal ned neil nelda nell nellie nelson nettie neva nicholas nichole nick nickolas
nicolas nicole nikki nina nita noah noe noel noelle noemi nola nolan nona nora norbert noreen norma norman
norris odell odessa ofelia ola olga olive oliver olivia ollie omar opal ophelia ora orville oscar otis otto owen
pablo paige pam pamela pansy patrica patrice patricia patrick patsy patti patty paul paula paulette pauline
pearlie pedro peggy penelope percy perry pete peter petra phil philip phillip phoebe phyllis pierre polly
preston priscilla queen quentin quincy quinton rachael rachel rachelle rae rafael ralph ramiro ramon ramona
randal randall randi randolph randy raphael raquel raul raymond reba rebecca rebekah reed reggie regina reginald
rena rene renee reuben reva rex reyna reynaldo rhea rhoda rhonda ricardo richard rick rickey rickie ricky
rigoberto riley rita robbie robert roberta roberto robin robyn rocco rochelle rocky rod roderick rodger rodney
rodolfo rodrigo rogelio roger roland rolando roman romeo ron ronald ronda ronnie roosevelt rory rosa rosalie
rosalind rosalinda rosalyn rosanna rosanne rosario roscoe roseann rosella rosemarie rosemary rosetta rosie
roslyn ross rowena roxanne roxie roy royce ruben rudolph rudy rufus russel russell rusty ruth ruthie ryan
sabrina sadie sallie sally salvador salvatore sam samantha sammie sammy samuel sandra santiago santos sara sarah
sasha saul saundra scot scott scotty sean sebastian selena selma serena sergio seth shana shane shanna shannon
shari sharlene sharron shaun shauna shawn shawna sheena sheila shelby sheldon shelia shelley shelly sheree sheri
sherman sherri sherrie sherry sheryl shirley sidney silvia simon simone socorro sofia solomon son sondra sonia
sonja sonya sophia sophie spencer stacey staci stacie stacy stan stanley stefanie stella stephan stephanie
stephen steve steven stewart stuart susan susana susanna susanne susie suzanne suzette sybil sylvester sylvia
tabatha tabitha tamara tameka tamera tami tamika tammi tammie tammy tamra tania tanisha tanya tara tasha taylor
ted teddy terence teresa teri terra terrance terrell terrence terri terrie terry tessa thaddeus thelma theodore
theresa therese thomas thurman tia tiffany tim timmy timothy tina tisha toby todd tom tomas tommie tommy toni
tonia tony tonya tracey traci tracie tracy travis trent trevor tricia trina trisha troy trudy twila tyrone tyson
ulysses ursula valarie valeria valerie van vance vanessa vaughn velma vera vern verna vernon veronica vicente
vicki vickie vicky victor vilma vince vincent viola virgie virgil vivian vonda wade wallace walter wanda ward
warren wayne wendell wendi wendy wesley whitney wilbert wilbur wilda wiley wilfred wilfredo willa willard
william williams willie willis wilma wilson winifred winnie winston woodrow xavier yesenia yolanda yvette yvonne
zachary zelma
""")
) - {"brain", "son", "queen", "van", "junior", "williams"} | {"bill", "mark"}
